-- Loads :members synthetic ACTIVE members into ONE union (:'org_id') for the group
-- enrollment benchmark of bench/insurance.sh, in SQL (seconds, not an hour through the
-- API). Run after `unionhall demo` (it copies sealed columns from a demo member):
--
--   psql -v ON_ERROR_STOP=1 -v members=100000 -v org_id="'<uuid>'" -f bench/insurance_members.sql postgres://…/db
--
-- Every row satisfies the members table of migrations/src/m20261129_000002_members.rs,
-- and what the service reads back (it answers 500 on a value it can't parse):
--   id            uuid, primary key: UUIDv7-shaped, one a second from 2025-01-01
--   org_id        :'org_id' for every row
--   name          ≤ 50: a two- or three-character Chinese name
--   gender        'male' / 'female'
--   birth_date    1966-1999
--   id_number_enc, phone_enc   copied from one demo member (sealed with this run's key,
--                 the AEAD binds only the field name), so they decrypt
--   id_number_hash, phone_hash ≤ 64: unique hex SHA-256 of a prefix and the row number,
--                 so the partial unique index (one active membership per person) holds
--   employer      '美团'
--   occupation    'delivery_rider', employment_form 'gig', status 'active': everyone is
--                 picked by the selector and eligible for the plan
--   card_no       unique, ≤ 20: 36 + 12-digit serial 910000000001… + Luhn digit (the
--                 service draws serials at random: a demo card falls in this range with
--                 odds of 10^-6; the unique index would say)
--   joined_on 2025-01-01 onwards (before the plan's term), created_at, updated_at, version
-- No member_events rows: neither enrolment nor the stats read them.
\set ON_ERROR_STOP on
SET synchronous_commit = off;

CREATE FUNCTION pg_temp.luhn(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN (length(p) - i) % 2 = 0
                           THEN (substr(p, i, 1)::int * 2) - CASE WHEN substr(p, i, 1)::int >= 5 THEN 9 ELSE 0 END
                           ELSE substr(p, i, 1)::int END) % 10) % 10)::text
    FROM generate_series(1, length(p)) AS i
$$;

BEGIN;
CREATE TEMP TABLE bench_sealed ON COMMIT DROP AS
    SELECT id_number_enc, phone_enc FROM members WHERE status = 'active' ORDER BY id LIMIT 1;
DO $$
BEGIN
    IF (SELECT count(*) FROM bench_sealed) = 0 THEN RAISE EXCEPTION 'no member to copy sealed values from: run `unionhall demo` first'; END IF;
END $$;

INSERT INTO members (id, org_id, name, gender, birth_date, id_number_enc, id_number_hash,
                     phone_enc, phone_hash, employer, occupation, employment_form, card_no,
                     status, joined_on, version, created_at, updated_at)
SELECT
    (lpad(to_hex(g.ms), 12, '0') || '7' || substr(g.r, 1, 3) || '8' || substr(g.r, 4, 15))::uuid,
    :'org_id'::uuid,
    substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘', 1 + g.i % 37, 1)
        || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌', 1 + (g.i / 37) % 37, 1)
        || CASE WHEN g.i % 3 = 0 THEN '' ELSE substr('宇浩凯健俊帆鑫林海波亮成飞龙峰晨雪琳晶颖婷慧佳', 1 + (g.i / 1369) % 23, 1) END,
    CASE WHEN g.i % 2 = 0 THEN 'male' ELSE 'female' END,
    date '1966-01-01' + ((g.i::bigint * 7919) % 12400)::int,
    s.id_number_enc,
    encode(sha256(convert_to('bench-insurance-id-number:' || g.i, 'UTF8')), 'hex'),
    s.phone_enc,
    encode(sha256(convert_to('bench-insurance-phone:' || g.i, 'UTF8')), 'hex'),
    '美团',
    'delivery_rider',
    'gig',
    '36' || g.serial || pg_temp.luhn('36' || g.serial),
    'active',
    (to_timestamp(g.ms / 1000.0) AT TIME ZONE 'Asia/Shanghai')::date,
    1,
    to_timestamp(g.ms / 1000.0),
    to_timestamp(g.ms / 1000.0)
FROM (
    SELECT i,
           (extract(epoch FROM timestamptz '2025-01-01 00:00:00+08') * 1000)::bigint + i::bigint * 1000 AS ms,
           md5('bench-insurance-member:' || i) AS r,
           (910000000000 + i)::text AS serial
    FROM generate_series(1, :members) AS i
) g
CROSS JOIN bench_sealed s;
COMMIT;

ANALYZE members;
