-- Replicas: a deliverer claims outbox rows before sending them, so a row is never in two hands.
-- `claimed_by` names the process (host:pid:nonce); `claimed_until` ends the claim if that
-- process dies without a successor releasing it. A new leader releases every claim not its own.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
