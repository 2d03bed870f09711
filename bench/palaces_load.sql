-- A month of bookings for the bench palace's venues, written exactly as the service
-- would have stored them (crates/persistence/src/palaces.rs):
--   * bookings: one row per booking, 1 unit, one 60-minute slot, 'booked' (5 % more
--     'cancelled'), ~60 % for demo members and ~40 % for guests booked by staff;
--     no_show_after = end + 15 min (the default grace); price = the venue's member or
--     guest price × units × slots;
--   * booking_cells: every 5-minute cell any booking (cancelled ones too) ever held,
--     with booked_units = the units of the bookings still holding it (cancel gives
--     them back but leaves the cell);
--   * booking_days: one row per venue and local day a member booked (lock_day runs
--     for member bookings only), bookings = how many member bookings took it.
-- Fill: in each slot each of units 1..6 is booked with probability 0.5333, so 40 % of
-- the 8 units on average and never more than 6: every slot keeps 2 units free for the
-- booking benchmark.
--
-- psql variables: palace_id, admin_id, first_day (local date of tomorrow), days.
\set ON_ERROR_STOP 1
BEGIN;

-- Deterministic venue ids (UUIDv7-shaped) so that wrk and pgbench can name a venue
-- from a number: 01900000-0000-7000-8000-0000000000NN, NN = 0..99 in creation order.
-- Done before any row refers to the venues.
UPDATE venues v SET id = ('01900000-0000-7000-8000-' || lpad((n.n - 1)::text, 12, '0'))::uuid
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM venues WHERE palace_id = :'palace_id') n
WHERE v.id = n.id;

CREATE TEMP TABLE bench_members AS
SELECT row_number() OVER (ORDER BY id) AS n, id, org_id FROM members WHERE status = 'active';

CREATE TEMP TABLE bench_fill AS
SELECT v.id AS venue_id, v.member_price_fen, v.guest_price_fen,
       (:'first_day'::date + d) AS local_date,
       (((:'first_day'::date + d) + make_time(h, 0, 0)) AT TIME ZONE 'Asia/Shanghai') AS start_at,
       u AS unit,
       CASE WHEN random() < 0.6 THEN 1 + floor(random() * (SELECT count(*) FROM bench_members))::bigint END AS member_n,
       random() < 0.5333 AS holding,
       random() < 0.05 AS cancelled_too
FROM venues v, generate_series(0, :days - 1) d, generate_series(8, 21) h, generate_series(1, 6) u
WHERE v.palace_id = :'palace_id';

INSERT INTO bookings (id, venue_id, member_id, member_org_id, guest_name, start_at, end_at,
    local_date, units, minutes, price_fen, status, no_show_after, created_by,
    cancelled_at, cancelled_by, checked_in_at, checked_in_by, created_at, updated_at)
SELECT gen_random_uuid(), f.venue_id, m.id, m.org_id,
       CASE WHEN m.id IS NULL THEN '散客' || f.unit END,
       f.start_at, f.start_at + interval '60 minutes', f.local_date, 1, 60,
       CASE WHEN m.id IS NULL THEN f.guest_price_fen ELSE f.member_price_fen END,
       s.status, f.start_at + interval '75 minutes', :'admin_id',
       CASE WHEN s.status = 'cancelled' THEN now() END,
       CASE WHEN s.status = 'cancelled' THEN :'admin_id'::uuid END,
       NULL, NULL, now() - interval '1 day', now() - interval '1 day'
FROM bench_fill f
LEFT JOIN bench_members m ON m.n = f.member_n
CROSS JOIN LATERAL (
    SELECT 'booked' AS status WHERE f.holding
    UNION ALL SELECT 'cancelled' WHERE f.cancelled_too
) s;

INSERT INTO booking_cells (venue_id, cell_start, booked_units)
SELECT b.venue_id, c, sum(CASE WHEN b.status <> 'cancelled' THEN b.units ELSE 0 END)
FROM bookings b
JOIN venues v ON v.id = b.venue_id AND v.palace_id = :'palace_id',
     generate_series(extract(epoch FROM b.start_at)::bigint, extract(epoch FROM b.end_at)::bigint - 300, 300) c
GROUP BY 1, 2;

INSERT INTO booking_days (venue_id, local_date, bookings)
SELECT b.venue_id, b.local_date, count(*)
FROM bookings b JOIN venues v ON v.id = b.venue_id AND v.palace_id = :'palace_id'
WHERE b.member_id IS NOT NULL
GROUP BY 1, 2;

COMMIT;
ANALYZE bookings;
ANALYZE booking_cells;
ANALYZE booking_days;
ANALYZE venues;
