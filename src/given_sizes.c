/*-------------------------------------------------------------------------
 *
 * given_sizes.c
 *	  Measure, for a dry run elsewhere: a relation's size as the rules see
 *	  it (migration_guard.relation_size(), which export_sizes() collects
 *	  for every table), and those sizes read back by check(sql,
 *	  transaction, sizes) on another server.
 *
 * A CI database has production's schema but not its data: with the sizes
 * exported from production, check() there judges each relation named in
 * them as if it had production's size and rows, and as one in use (what
 * production's tables are).  Relations the sizes do not name are measured
 * as always.  Only check() reads given sizes; the guard never does, so no
 * one can make a table look small to it.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/given_sizes.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"

#include "migration_guard.h"

PG_FUNCTION_INFO_V1(mg_relation_size);

typedef struct GivenSize
{
	Oid			relid;			/* hash key */
	RelSize		size;
} GivenSize;

/* The format export_sizes() writes, and check() reads */
#define SIZES_FORMAT "migration_guard sizes 1"

/*
 * migration_guard.relation_size(regclass): bytes, TOAST bytes, estimated
 * rows and partitions, as the rules measure them
 */
Datum
mg_relation_size(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	RelSize		size;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	size = measure_relation(relid);
	values[0] = Int64GetDatum(size.bytes);
	values[1] = Int64GetDatum(size.toast_bytes);
	values[2] = Int64GetDatum(size.rows);
	values[3] = Int32GetDatum(size.partitions);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* 18 spells "does not return" pg_noreturn, in front */
#if PG_VERSION_NUM >= 180000
static pg_noreturn void invalid_sizes(const char *detail);
#else
static void invalid_sizes(const char *detail) pg_attribute_noreturn();
#endif

static void
invalid_sizes(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid sizes for migration_guard.check()"),
			 errdetail("%s", detail),
			 errhint("Pass what migration_guard.export_sizes() returns.")));
}

/* One int8 of an SPI row; what the query made sure is one */
static int64
spi_int8(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* A number of a relation's sizes that fits in int8 (int4), not negative */
#define SIZE_IN_RANGE(key, limit) \
	"CASE WHEN pg_catalog.jsonb_typeof(r->'" key "') = 'number'" \
	" THEN (r->>'" key "')::pg_catalog.numeric >= 0" \
	"  AND (r->>'" key "')::pg_catalog.numeric < " limit \
	" ELSE false END"
#define INT8_LIMIT "9223372036854775808"
#define INT4_LIMIT "2147483648"

/*
 * The sizes a check() call was given (export_sizes()'s jsonb), by the Oid
 * of the relation of the same schema and name here, in the caller's memory.
 * Every function the queries call is pg_catalog's, whatever the caller's
 * search_path; the numbers are checked before they are converted, so bad
 * sizes are an error that says what is expected, never one from inside
 * these queries.
 */
HTAB *
given_sizes_load(Datum sizes)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {sizes};
	HASHCTL		ctl;
	HTAB	   *given;
	bool		isnull;
	bool		valid;
	uint64		i;
	int			ret;

	if ((ret = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed for the given sizes: %s",
			 SPI_result_code_string(ret));

	ret = SPI_execute_with_args(
								"SELECT (pg_catalog.jsonb_typeof($1) = 'object'"
								"   AND $1->>'format' IS NOT DISTINCT FROM '" SIZES_FORMAT "'"
								"   AND pg_catalog.jsonb_typeof($1->'relations') = 'array') IS TRUE",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check the format of the given sizes: %s",
			 SPI_result_code_string(ret));
	valid = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull || !valid)
		invalid_sizes("They must be an object with \"format\": \"" SIZES_FORMAT "\" and an array \"relations\".");

	ret = SPI_execute_with_args(
								"SELECT pg_catalog.count(*)"
								"  FROM pg_catalog.jsonb_array_elements($1->'relations') r"
								" WHERE (pg_catalog.jsonb_typeof(r) = 'object'"
								"   AND pg_catalog.jsonb_typeof(r->'schema') = 'string'"
								"   AND pg_catalog.jsonb_typeof(r->'name') = 'string'"
								"   AND " SIZE_IN_RANGE("bytes", INT8_LIMIT)
								"   AND " SIZE_IN_RANGE("rows", INT8_LIMIT)
								"   AND (r->'toast_bytes' IS NULL OR "
								SIZE_IN_RANGE("toast_bytes", INT8_LIMIT) ")"
								"   AND (r->'partitions' IS NULL OR "
								SIZE_IN_RANGE("partitions", INT4_LIMIT) ")"
								"       ) IS NOT TRUE",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check the relations of the given sizes: %s",
			 SPI_result_code_string(ret));
	if (spi_int8(0, 1) > 0)
		invalid_sizes("Each element of \"relations\" needs \"schema\" and \"name\" strings, "
					  "\"bytes\" and \"rows\" numbers, and may have \"toast_bytes\" and \"partitions\" numbers: "
					  "none negative, each within bigint (\"partitions\" within integer).");

	/* relations that are not here are measured as always */
	ret = SPI_execute_with_args(
								"SELECT c.oid,"
								"       pg_catalog.trunc((r->>'bytes')::pg_catalog.numeric)::pg_catalog.int8,"
								"       pg_catalog.trunc(coalesce((r->>'toast_bytes')::pg_catalog.numeric, 0))::pg_catalog.int8,"
								"       pg_catalog.trunc((r->>'rows')::pg_catalog.numeric)::pg_catalog.int8,"
								"       pg_catalog.trunc(coalesce((r->>'partitions')::pg_catalog.numeric, 0))::pg_catalog.int4"
								"  FROM pg_catalog.jsonb_array_elements($1->'relations') r"
								"  JOIN pg_catalog.pg_namespace n ON n.nspname = r->>'schema'"
								"  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid"
								"   AND c.relname = r->>'name'",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the relations of the given sizes: %s",
			 SPI_result_code_string(ret));

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(GivenSize);
	ctl.hcxt = caller;
	given = hash_create("migration_guard given sizes", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tuple, tupdesc, 1, &isnull));
		GivenSize  *entry = hash_search(given, &relid, HASH_ENTER, NULL);

		memset(&entry->size, 0, sizeof(RelSize));
		entry->size.bytes = spi_int8(i, 2);
		entry->size.toast_bytes = spi_int8(i, 3);
		entry->size.rows = spi_int8(i, 4);
		entry->size.partitions = DatumGetInt32(SPI_getbinval(tuple, tupdesc, 5, &isnull));
	}
	SPI_finish();
	return given;
}

/*
 * The size check() judges a relation by: the one it was given, if any
 * (*given is then true), else the one measured here
 */
RelSize
given_or_measured_size(ScriptState *script, Oid relid, bool *given)
{
	GivenSize  *entry = NULL;

	if (script != NULL && script->sizes != NULL)
		entry = hash_search(script->sizes, &relid, HASH_FIND, NULL);
	*given = entry != NULL;
	return entry ? entry->size : measure_relation(relid);
}

/*
 * The rates that came with the sizes (export_sizes()'s "rates": per work
 * kind, the factor and its source on that server), or NULL when there are
 * none.  Kinds this server does not know are skipped; a factor that is not
 * a positive number is an error.
 */
GivenRates *
given_rates_load(Datum sizes)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {sizes};
	GivenRates *rates = NULL;
	uint64		i;
	int			ret;

	if ((ret = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed for the given rates: %s",
			 SPI_result_code_string(ret));
	ret = SPI_execute_with_args(
								"SELECT r.key, r.value->>'source',"
								"       CASE WHEN pg_catalog.jsonb_typeof(r.value->'factor') = 'number'"
								"             AND (r.value->>'factor')::pg_catalog.numeric > 0"
								"             AND (r.value->>'factor')::pg_catalog.numeric < 1000000"
								"            THEN (r.value->>'factor')::pg_catalog.float8 END"
								"  FROM pg_catalog.jsonb_each(CASE WHEN pg_catalog.jsonb_typeof($1->'rates') = 'object'"
								"                                  THEN $1->'rates' END) r",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the rates of the given sizes: %s",
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		WorkKind	kind = work_kind_lookup(SPI_getvalue(tuple, tupdesc, 1));
		char	   *source = SPI_getvalue(tuple, tupdesc, 2);
		char	   *factor = SPI_getvalue(tuple, tupdesc, 3);
		MemoryContext oldcxt;

		if (kind == WORK_NONE)
			continue;			/* a kind of a later version */
		if (factor == NULL)
			invalid_sizes("Each value of \"rates\" needs a \"factor\": a number above 0 and below 1000000.");
		oldcxt = MemoryContextSwitchTo(caller);
		if (rates == NULL)
			rates = palloc0(sizeof(GivenRates));
		rates->factor[kind] = strtod(factor, NULL);
		rates->source[kind] = psprintf("given with the sizes: %s",
									   source ? source : "no source said");
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	return rates;
}
