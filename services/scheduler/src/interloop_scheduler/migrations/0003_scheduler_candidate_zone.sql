-- The zone the candidate chose when booking: their confirmation and reminder emails show times in it.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS candidate_time_zone text NOT NULL DEFAULT '';
