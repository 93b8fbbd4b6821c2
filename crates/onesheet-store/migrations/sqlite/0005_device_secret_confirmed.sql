-- When a device first authenticated with its secret. Until then the screen with the pairing
-- ticket may get its secret again, because the socket that carried it can close before the
-- screen reads it. Devices already seen count as confirmed.
ALTER TABLE devices ADD COLUMN secret_confirmed_at INTEGER;
UPDATE devices SET secret_confirmed_at = last_seen_at
 WHERE secret_hash IS NOT NULL AND last_seen_at IS NOT NULL;
