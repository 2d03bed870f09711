-- Loads synthetic members for the member-list benchmark of bench/roster.sh, in SQL
-- (a minute, not hours through the API). Run after `unionhall demo`:
--
--   psql -v ON_ERROR_STOP=1 -v members=1000000 -f bench/members_load.sql postgres://…/db
--
-- Every row satisfies the members table of migrations/src/m20261129_000002_members.rs,
-- and what the service reads back (it answers 500 on a value it can't parse):
--   id            uuid, primary key: UUIDv7-shaped (time-ordered like the service's),
--                 one a minute from 2024-01-01, so creation order is interleaved
--   org_id        not null, FK orgs: round-robin over every organisation below the root
--                 (the demo's city subtrees), so each city holds a steady share of ids
--   name          not null, ≤ 50: a two- or three-character Chinese name
--   gender        not null, ≤ 8: 'male' / 'female'
--   birth_date    not null: 1966-1999
--   id_number_enc, phone_enc   not null, ≤ 128: copied from one demo member (sealed with
--                 this run's key, the AEAD binds only the field name), so they decrypt
--   id_number_hash, phone_hash not null, ≤ 64: unique hex SHA-256 of the row number, so
--                 the partial unique index (one active membership per person) holds
--   employer      null allowed, ≤ 200
--   occupation, employment_form, status   not null, the domain's wire values
--   card_no       not null, unique, ≤ 20: 36 + 12-digit serial 900000000001… + Luhn
--                 digit, as the service makes them (it draws serials at random: a demo
--                 card falls in this range with odds of 10^-6; the unique index would say)
--   joined_on, created_at, updated_at, version   not null
-- No member_events rows: the list doesn't read them.
\set ON_ERROR_STOP on
SET synchronous_commit = off;

CREATE FUNCTION pg_temp.luhn(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN (length(p) - i) % 2 = 0
                           THEN (substr(p, i, 1)::int * 2) - CASE WHEN substr(p, i, 1)::int >= 5 THEN 9 ELSE 0 END
                           ELSE substr(p, i, 1)::int END) % 10) % 10)::text
    FROM generate_series(1, length(p)) AS i
$$;

BEGIN;
CREATE TEMP TABLE bench_orgs ON COMMIT DROP AS
    SELECT id, (row_number() OVER (ORDER BY path) - 1)::int AS k
    FROM orgs WHERE parent_id IS NOT NULL;
CREATE TEMP TABLE bench_sealed ON COMMIT DROP AS
    SELECT id_number_enc, phone_enc FROM members WHERE status = 'active' ORDER BY id LIMIT 1;
DO $$
BEGIN
    IF (SELECT count(*) FROM bench_orgs) = 0 THEN RAISE EXCEPTION 'no organisations below the root: run `unionhall demo` first'; END IF;
    IF (SELECT count(*) FROM bench_sealed) = 0 THEN RAISE EXCEPTION 'no member to copy sealed values from: run `unionhall demo` first'; END IF;
END $$;

INSERT INTO members (id, org_id, name, gender, birth_date, id_number_enc, id_number_hash,
                     phone_enc, phone_hash, employer, occupation, employment_form, card_no,
                     status, joined_on, version, created_at, updated_at)
SELECT
    (lpad(to_hex(g.ms), 12, '0') || '7' || substr(g.r, 1, 3) || '8' || substr(g.r, 4, 15))::uuid,
    o.id,
    substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘', 1 + g.i % 37, 1)
        || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌', 1 + (g.i / 37) % 37, 1)
        || CASE WHEN g.i % 3 = 0 THEN '' ELSE substr('宇浩凯健俊帆鑫林海波亮成飞龙峰晨雪琳晶颖婷慧佳', 1 + (g.i / 1369) % 23, 1) END,
    CASE WHEN g.i % 2 = 0 THEN 'male' ELSE 'female' END,
    date '1966-01-01' + ((g.i::bigint * 7919) % 12400)::int,
    s.id_number_enc,
    encode(sha256(convert_to('bench-id-number:' || g.i, 'UTF8')), 'hex'),
    s.phone_enc,
    encode(sha256(convert_to('bench-phone:' || g.i, 'UTF8')), 'hex'),
    (ARRAY['美团', '饿了么', '顺丰速运', '滴滴出行', NULL])[1 + g.i % 5],
    (ARRAY['delivery_rider', 'ride_hailing_driver', 'courier', 'live_streamer', 'community_ecommerce',
           'truck_driver', 'domestic_worker', 'factory_worker', 'other'])[1 + g.i % 9],
    CASE WHEN g.i % 4 = 0 THEN 'standard' ELSE 'gig' END,
    '36' || g.serial || pg_temp.luhn('36' || g.serial),
    CASE WHEN g.i % 20 = 0 THEN 'withdrawn' WHEN g.i % 33 = 0 THEN 'lapsed' ELSE 'active' END,
    (to_timestamp(g.ms / 1000.0) AT TIME ZONE 'Asia/Shanghai')::date,
    1,
    to_timestamp(g.ms / 1000.0),
    to_timestamp(g.ms / 1000.0)
FROM (
    SELECT i,
           (extract(epoch FROM timestamptz '2024-01-01 00:00:00+08') * 1000)::bigint + i::bigint * 60000 AS ms,
           md5('bench-member:' || i) AS r,
           (900000000000 + i)::text AS serial
    FROM generate_series(1, :members) AS i
) g
JOIN bench_orgs o ON o.k = g.i % (SELECT count(*) FROM bench_orgs)
CROSS JOIN bench_sealed s;
COMMIT;

ANALYZE members;
