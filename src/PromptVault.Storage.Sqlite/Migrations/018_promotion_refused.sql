-- Why a completed experiment's winner was not promoted though promoteWinner asked for it (a gate refused it: approval,
-- tests, includes); null when it was promoted or none was due. The experiment's JSON carries it as promotionRefused.
ALTER TABLE experiments ADD COLUMN promotion_refused TEXT;
