-- The server's Data Protection key ring (the dashboard's sign-in cookie and antiforgery tokens), so that a restarted
-- server still reads the cookies it issued (StoredKeyRing). Before, the keys were files in ~/.aspnet/DataProtection-Keys,
-- lost with a container. Rows are only added: a key (a new one every 90 days) or a revocation. Not exported.
CREATE TABLE data_protection_keys (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    xml  TEXT NOT NULL
);
