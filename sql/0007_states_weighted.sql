-- 0007_states_weighted.sql: the aggregate states gained weighted sums for the
-- improvement priorities (their importance is a weighted item-total
-- correlation with an interval). States written before cannot give those
-- for a weighted unit, so they are all dropped here and every stored
-- response is queued to be folded again: until the folder (sipasd, or
-- sipasctl aggregate) has caught up, the indices read the queued responses
-- raw, so every figure stays exact meanwhile.
DELETE FROM agg_states;
INSERT INTO agg_pending (id, survey)
SELECT id, survey FROM responses
ON CONFLICT (id) DO NOTHING;
