/**
 * Column definitions of a PostgreSQL table with one column of each type the PostgreSQL source
 * handles; needs enum type `mood` and domain `posint` in the schema.
 */
export const PG_ALL_TYPES_COLUMNS = `
  id int PRIMARY KEY,
  c_int2 smallint, c_int4 integer, c_int8 bigint,
  c_num numeric(40,10), c_num_any numeric,
  c_real real, c_double double precision,
  c_bool boolean,
  c_text text, c_varchar varchar(20), c_char char(5),
  c_bytea bytea, c_uuid uuid, c_json json, c_jsonb jsonb,
  c_date date, c_time time(6), c_timetz timetz, c_ts timestamp(6), c_tstz timestamptz(6),
  c_interval interval,
  c_int_arr integer[], c_text_arr text[], c_ts_arr timestamptz[],
  c_enum mood, c_enum_arr mood[], c_domain posint,
  c_bit bit(4), c_varbit bit varying(8),
  c_null text`;
