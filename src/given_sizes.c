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

static void
invalid_sizes(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid sizes for migration_guard.check()"),
			 errdetail("%s", detail),
			 errhint("Pass what migration_guard.export_sizes() returns.")));
}

/* One int8 of an SPI row; what the query made sure is a number */
static int64
spi_int8(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * The sizes a check() call was given (export_sizes()'s jsonb), by the Oid
 * of the relation of the same schema and name here, in the caller's memory
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
	uint64		i;

	SPI_connect();
	if (SPI_execute_with_args(
							  "SELECT jsonb_typeof($1) = 'object'"
							  "   AND $1->>'format' IS NOT DISTINCT FROM '" SIZES_FORMAT "'"
							  "   AND jsonb_typeof($1->'relations') = 'array'",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the sizes");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									1, &isnull)) || isnull)
		invalid_sizes("They must be an object with \"format\": \"" SIZES_FORMAT "\" and an array \"relations\".");

	if (SPI_execute_with_args(
							  "SELECT count(*) FROM pg_catalog.jsonb_array_elements($1->'relations') r"
							  " WHERE jsonb_typeof(r) <> 'object'"
							  "    OR jsonb_typeof(r->'schema') IS DISTINCT FROM 'string'"
							  "    OR jsonb_typeof(r->'name') IS DISTINCT FROM 'string'"
							  "    OR jsonb_typeof(r->'bytes') IS DISTINCT FROM 'number'"
							  "    OR jsonb_typeof(r->'rows') IS DISTINCT FROM 'number'"
							  "    OR coalesce(jsonb_typeof(r->'toast_bytes'), 'number') <> 'number'"
							  "    OR coalesce(jsonb_typeof(r->'partitions'), 'number') <> 'number'"
							  "    OR (r->>'bytes')::numeric < 0 OR (r->>'rows')::numeric < 0",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the sizes");
	if (spi_int8(0, 1) > 0)
		invalid_sizes("Each element of \"relations\" needs \"schema\" and \"name\" strings and \"bytes\" and \"rows\" numbers that are not negative.");

	/* relations that are not here are measured as always */
	if (SPI_execute_with_args(
							  "SELECT c.oid,"
							  "       trunc((r->>'bytes')::numeric)::int8,"
							  "       trunc(coalesce((r->>'toast_bytes')::numeric, 0))::int8,"
							  "       trunc((r->>'rows')::numeric)::int8,"
							  "       trunc(coalesce((r->>'partitions')::numeric, 0))::int8"
							  "  FROM pg_catalog.jsonb_array_elements($1->'relations') r"
							  "  JOIN pg_catalog.pg_namespace n ON n.nspname = r->>'schema'"
							  "  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid"
							  "   AND c.relname = r->>'name'",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the sizes");

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(GivenSize);
	ctl.hcxt = caller;
	given = hash_create("migration_guard given sizes", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc,
														   1, &isnull));
		GivenSize  *entry = hash_search(given, &relid, HASH_ENTER, NULL);

		memset(&entry->size, 0, sizeof(RelSize));
		entry->size.bytes = spi_int8(i, 2);
		entry->size.toast_bytes = spi_int8(i, 3);
		entry->size.rows = spi_int8(i, 4);
		entry->size.partitions = (int) spi_int8(i, 5);
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
