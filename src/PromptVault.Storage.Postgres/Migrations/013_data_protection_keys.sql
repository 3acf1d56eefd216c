-- The servers' Data Protection key ring (the dashboard's sign-in cookie and antiforgery tokens), shared by every server on
-- this database (StoredKeyRing): a cookie issued by one is read by the others, and by a restarted one. Before, each server
-- kept its own keys in ~/.aspnet/DataProtection-Keys, so behind a load balancer a signed-in user was sent to the sign-in
-- page by every other server. Rows are only added: a key (a new one every 90 days) or a revocation. Not exported.
CREATE TABLE data_protection_keys (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    xml  text NOT NULL
);
