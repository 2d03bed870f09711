-- 200,000 outdoor-worker service stations across Jiangxi, written exactly as the
-- service stores them (crates/persistence/src/stations.rs):
--   * positions uniform over the province's box, latitude 24.5-30.1 and longitude
--     113.6-118.5 (WGS-84), with lat_band = floor(lat * 100);
--   * each run by the nearest of the eleven city federations the demo created;
--   * amenities a random bit mask of the seven (0-127);
--   * opening_hours one of four weeks as the service serialises them (round the clock,
--     07:00-21:00, meal times, weekdays 08:00-20:00 and weekends 09:00-18:00);
--   * status 95 % open, 3 % temporarily_closed, 2 % closed; a phone on a third.
-- One INSERT ... SELECT over generate_series, then ANALYZE.
--
-- psql variables: stations (200000).
\set ON_ERROR_STOP 1
BEGIN;

CREATE TEMP TABLE bench_cities (code text, lat double precision, lng double precision);
INSERT INTO bench_cities VALUES
    ('nc', 28.6820, 115.8579), ('jdz', 29.2688, 117.1785), ('px', 27.6229, 113.8543),
    ('jj', 29.7051, 116.0019), ('xy', 27.8174, 114.9171), ('yt', 28.2602, 117.0693),
    ('gz', 25.8311, 114.9335), ('ja', 27.1138, 114.9927), ('yc', 27.8158, 114.4165),
    ('fz', 27.9489, 116.3582), ('sr', 28.4546, 117.9434);

CREATE TEMP TABLE bench_hours (n int, hours text);
INSERT INTO bench_hours VALUES
    (0, '{"mon":[{"from":"00:00","to":"24:00"}],"tue":[{"from":"00:00","to":"24:00"}],"wed":[{"from":"00:00","to":"24:00"}],"thu":[{"from":"00:00","to":"24:00"}],"fri":[{"from":"00:00","to":"24:00"}],"sat":[{"from":"00:00","to":"24:00"}],"sun":[{"from":"00:00","to":"24:00"}]}'),
    (1, '{"mon":[{"from":"07:00","to":"21:00"}],"tue":[{"from":"07:00","to":"21:00"}],"wed":[{"from":"07:00","to":"21:00"}],"thu":[{"from":"07:00","to":"21:00"}],"fri":[{"from":"07:00","to":"21:00"}],"sat":[{"from":"07:00","to":"21:00"}],"sun":[{"from":"07:00","to":"21:00"}]}'),
    (2, '{"mon":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"tue":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"wed":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"thu":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"fri":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"sat":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}],"sun":[{"from":"10:00","to":"14:00"},{"from":"17:00","to":"22:00"}]}'),
    (3, '{"mon":[{"from":"08:00","to":"20:00"}],"tue":[{"from":"08:00","to":"20:00"}],"wed":[{"from":"08:00","to":"20:00"}],"thu":[{"from":"08:00","to":"20:00"}],"fri":[{"from":"08:00","to":"20:00"}],"sat":[{"from":"09:00","to":"18:00"}],"sun":[{"from":"09:00","to":"18:00"}]}');

CREATE TEMP TABLE bench_positions AS
SELECT n, 24.5 + 5.6 * random() AS lat, 113.6 + 4.9 * random() AS lng,
       floor(random() * 128)::int AS amenities, floor(random() * 4)::int AS hours,
       random() AS s, random() < 0.33 AS with_phone
FROM generate_series(1, :stations) n;

INSERT INTO stations (id, org_id, name, address, lat, lng, lat_band, amenities,
    opening_hours, status, phone, version, created_at, updated_at)
SELECT gen_random_uuid(), city.id, '压测驿站 ' || p.n, '江西省压测路 ' || p.n || ' 号',
       p.lat, p.lng, floor(p.lat * 100)::int, p.amenities, h.hours,
       CASE WHEN p.s < 0.95 THEN 'open' WHEN p.s < 0.98 THEN 'temporarily_closed' ELSE 'closed' END,
       CASE WHEN p.with_phone THEN '12351' END, 1, now(), now()
FROM bench_positions p
JOIN bench_hours h ON h.n = p.hours
CROSS JOIN LATERAL (
    SELECT o.id FROM bench_cities c JOIN orgs o ON o.code = c.code
    ORDER BY (c.lat - p.lat) ^ 2 + ((c.lng - p.lng) * 0.88) ^ 2 LIMIT 1
) city;

COMMIT;
ANALYZE stations;
