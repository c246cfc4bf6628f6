-- Organisation and estate (domain.md §1). Every row below the company carries
-- its office_id (R-ORG-1) so data-scope filters never need a join; archived_at
-- hides a record without deleting the history that points at it. Names are
-- unique among the active children of one parent.

CREATE TABLE company_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    vip_card_prefix TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO company_settings (id, name, vip_card_prefix, time_zone, version, created_at, updated_at)
VALUES (1, '物业公司', 'JK', 'Asia/Shanghai', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00');

CREATE TABLE offices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT,
    phone TEXT,
    address TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX offices_active_name ON offices (name) WHERE archived_at IS NULL;

CREATE TABLE estates (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    name TEXT NOT NULL,
    address TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX estates_active_name ON estates (office_id, name) WHERE archived_at IS NULL;
CREATE INDEX estates_office ON estates (office_id, id);

CREATE TABLE buildings (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    estate_id BIGINT NOT NULL REFERENCES estates (id),
    name TEXT NOT NULL,
    floors_above INTEGER,
    floors_below INTEGER,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX buildings_active_name ON buildings (estate_id, name) WHERE archived_at IS NULL;
CREATE INDEX buildings_office ON buildings (office_id, id);
CREATE INDEX buildings_estate ON buildings (estate_id, id);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    estate_id BIGINT NOT NULL REFERENCES estates (id),
    building_id BIGINT NOT NULL REFERENCES buildings (id),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX units_active_name ON units (building_id, name) WHERE archived_at IS NULL;
CREATE INDEX units_office ON units (office_id, id);
CREATE INDEX units_building ON units (building_id, id);

CREATE TABLE houses (
    id INTEGER PRIMARY KEY,
    office_id BIGINT NOT NULL REFERENCES offices (id),
    estate_id BIGINT NOT NULL REFERENCES estates (id),
    building_id BIGINT NOT NULL REFERENCES buildings (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    number TEXT NOT NULL,
    floor INTEGER NOT NULL,
    -- Areas in hundredths of a square metre (exact, like money in fen).
    building_area BIGINT NOT NULL,
    usable_area BIGINT NOT NULL,
    house_type TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX houses_active_number ON houses (unit_id, number) WHERE archived_at IS NULL;
CREATE INDEX houses_office ON houses (office_id, id);
CREATE INDEX houses_estate ON houses (estate_id, id);
CREATE INDEX houses_building ON houses (building_id, id);
CREATE INDEX houses_unit ON houses (unit_id, id);
