/*-------------------------------------------------------------------------
 *
 * unused_tables.c
 *	  Measure: the tables no session has used since they were created.
 *
 * A restore (pg_restore, psql -f of a dump), pgbench -i or pg_repack fills
 * a table and then builds its primary key, indexes and foreign keys, each
 * in a transaction of its own.  No application has the table yet: nobody
 * waits for those locks, and refusing them left restores without their
 * constraints.  The signal must be one an ordinary role cannot fake on a
 * table that is in use, so the guard keeps it itself, in shared memory:
 *
 *	- a table enters when a CREATE TABLE, CREATE TABLE AS, SELECT INTO or
 *	  CREATE MATERIALIZED VIEW creates it (not a temporary one: those are
 *	  never judged anyway);
 *	- it leaves at the first query on it (ExecutorStart: SELECT, INSERT,
 *	  UPDATE, DELETE, MERGE, in any session, through a view or a function
 *	  too) that is not of the transaction that created it, and when a DROP
 *	  statement has removed it (or its database);
 *	- the set starts empty when the server starts: a table created before
 *	  is judged as always.
 *
 * COPY FROM, which is how a dump loads its data, does not take a table out
 * of the set; an INSERT in a later transaction does (an application that
 * writes to the table would wait for an index build).  Nor do the queries
 * PostgreSQL runs for a judged statement (a foreign key's validation).
 *
 * Lookups from ExecutorStart take no lock: the set is an open-addressing
 * table of 64-bit keys (database, relation) read with atomic loads; only
 * adding and removing take the lock.  All that an ordinary query pays while
 * the set is empty is one atomic read.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/unused_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "migration_guard.h"

/* Slots of the table; at most half of them are used, for short probes */
#define UNUSED_SLOTS	16384
#define UNUSED_MAX		(UNUSED_SLOTS / 2)
#define SLOT_EMPTY		UINT64CONST(0)
#define SLOT_REMOVED	PG_UINT64_MAX

typedef struct UnusedTables
{
	LWLock	   *lock;			/* taken by writers only */
	pg_atomic_uint32 live;		/* tables in the set */
	pg_atomic_uint64 key[UNUSED_SLOTS]; /* database << 32 | relation */
	TransactionId xid[UNUSED_SLOTS];	/* the transaction that created it */

	/*
	 * The slots in use, densely, so that the pass after a DROP costs what
	 * the set holds, not its size: listed[0 .. live) are slots, and
	 * position[slot] is where that slot is listed.  Under the lock.
	 */
	int32		listed[UNUSED_MAX];
	int32		position[UNUSED_SLOTS];
} UnusedTables;

static UnusedTables *unused = NULL;

/* the count of tables in the set, for unused_tables_any(); NULL until set up */
pg_atomic_uint32 *mg_unused_live = NULL;

static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;

static void remove_key(uint64 key);

static inline uint64
slot_key(Oid dbid, Oid relid)
{
	return ((uint64) dbid << 32) | relid;
}

static inline uint32
slot_start(uint64 key)
{
	return (uint32) (key * UINT64CONST(0x9E3779B97F4A7C15) >> 32) & (UNUSED_SLOTS - 1);
}

/* The slot holding key, or -1; without a lock (a writer may race us) */
static int
find_slot(uint64 key)
{
	uint32		i = slot_start(key);
	int			n;

	for (n = 0; n < UNUSED_SLOTS; n++, i = (i + 1) & (UNUSED_SLOTS - 1))
	{
		uint64		k = pg_atomic_read_u64(&unused->key[i]);

		if (k == key)
			return (int) i;
		if (k == SLOT_EMPTY)
			return -1;
	}
	return -1;
}

static void
unused_tables_shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(sizeof(UnusedTables));
	RequestNamedLWLockTranche("migration_guard", 1);
}

static void
unused_tables_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	unused = ShmemInitStruct("migration_guard unused tables",
							 sizeof(UnusedTables), &found);
	if (!found)
	{
		int			i;

		unused->lock = &(GetNamedLWLockTranche("migration_guard"))->lock;
		pg_atomic_init_u32(&unused->live, 0);
		for (i = 0; i < UNUSED_SLOTS; i++)
		{
			pg_atomic_init_u64(&unused->key[i], SLOT_EMPTY);
			unused->xid[i] = InvalidTransactionId;
		}
	}
	LWLockRelease(AddinShmemInitLock);
	mg_unused_live = &unused->live;
}

/* In _PG_init, when preloaded: the set lives in shared memory */
void
unused_tables_install(void)
{
	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = unused_tables_shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = unused_tables_shmem_startup;
}

/*
 * A CREATE TABLE, CREATE TABLE AS or SELECT INTO has just run: its table
 * enters the set, unless it is temporary or was there before (IF NOT
 * EXISTS).  When the set is full the table is simply not tracked, and is
 * judged as always.
 */
void
unused_tables_note_created(Node *parsetree)
{
	RangeVar   *rv = NULL;
	Oid			relid;
	Relation	rel;
	bool		created;
	uint64		key;
	uint32		i;
	int			n;
	int			free_slot = -1;

	if (unused == NULL)
		return;
	if (IsA(parsetree, CreateStmt))
		rv = ((CreateStmt *) parsetree)->relation;
	else if (IsA(parsetree, CreateTableAsStmt) &&
			 ((CreateTableAsStmt *) parsetree)->into != NULL)
		rv = ((CreateTableAsStmt *) parsetree)->into->rel;
	if (rv == NULL)
		return;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return;

	/*
	 * Created by this transaction (its relcache entry says so), not merely
	 * changed by it: CREATE TABLE IF NOT EXISTS of a table this transaction
	 * altered must not make that table look new.  The statement holds its
	 * lock on the table.
	 */
	rel = RelationIdGetRelation(relid);
	if (!RelationIsValid(rel))
		return;
	created = rel->rd_createSubid != InvalidSubTransactionId &&
		rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP;
	RelationClose(rel);
	if (!created)
		return;

	key = slot_key(MyDatabaseId, relid);
	LWLockAcquire(unused->lock, LW_EXCLUSIVE);
	if (pg_atomic_read_u32(&unused->live) < UNUSED_MAX)
	{
		i = slot_start(key);
		for (n = 0; n < UNUSED_SLOTS; n++, i = (i + 1) & (UNUSED_SLOTS - 1))
		{
			uint64		k = pg_atomic_read_u64(&unused->key[i]);

			if (k == key)
			{
				free_slot = -1;		/* a relation OID used again */
				unused->xid[i] = GetTopTransactionId();
				break;
			}
			if (k == SLOT_REMOVED && free_slot < 0)
				free_slot = (int) i;
			if (k == SLOT_EMPTY)
			{
				if (free_slot < 0)
					free_slot = (int) i;
				break;
			}
		}
		if (free_slot >= 0)
		{
			uint32		live = pg_atomic_read_u32(&unused->live);

			unused->xid[free_slot] = GetTopTransactionId();
			unused->listed[live] = free_slot;
			unused->position[free_slot] = (int32) live;
			pg_write_barrier();
			pg_atomic_write_u64(&unused->key[free_slot], key);
			pg_atomic_write_u32(&unused->live, live + 1);
		}
	}
	LWLockRelease(unused->lock);
}

static void
remove_key(uint64 key)
{
	int			slot;

	LWLockAcquire(unused->lock, LW_EXCLUSIVE);
	slot = find_slot(key);
	if (slot >= 0)
	{
		uint32		last = pg_atomic_read_u32(&unused->live) - 1;
		int32		moved = unused->listed[last];

		/* the last listed slot takes this one's place in the list */
		unused->listed[unused->position[slot]] = moved;
		unused->position[moved] = unused->position[slot];
		pg_atomic_write_u64(&unused->key[slot], SLOT_REMOVED);
		unused->xid[slot] = InvalidTransactionId;
		pg_atomic_write_u32(&unused->live, last);
	}
	LWLockRelease(unused->lock);
}


/* A query of another transaction than the one that created it uses it */
static void
note_used(Oid relid)
{
	uint64		key = slot_key(MyDatabaseId, relid);
	int			slot = find_slot(key);

	if (slot < 0)
		return;
	pg_read_barrier();
	if (TransactionIdIsCurrentTransactionId(unused->xid[slot]))
		return;
	remove_key(key);
}

/* LOCK TABLE: whoever holds a lock on a table uses it */
void
unused_tables_note_locked(LockStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true);

		if (OidIsValid(relid))
			note_used(relid);
	}
}

/*
 * A query is about to run: the tables it reads or writes are used, unless
 * this is the transaction that created them (loading them), or a query
 * PostgreSQL runs for a judged statement.
 */
void
unused_tables_note_query(List *rtable)
{
	ListCell   *lc;

	if (hook_judged_running())
		return;
	foreach(lc, rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		note_used(rte->relid);

		/*
		 * An INSERT into a partitioned table routes its rows to partitions
		 * that are not in the range table: they are used too
		 */
		if (rte->relkind == RELKIND_PARTITIONED_TABLE)
		{
			ListCell   *pc;

			foreach(pc, find_all_inheritors(rte->relid, NoLock, NULL))
				note_used(lfirst_oid(pc));
		}
	}
}

/*
 * Has no session used this table since it was created?  An entry whose
 * table was dropped has left the set; one whose creation was rolled back
 * names no table.
 */
bool
unused_table(Oid relid)
{
	return unused_tables_any() &&
		find_slot(slot_key(MyDatabaseId, relid)) >= 0;
}

/*
 * The keys of the set that belong to database dbid, copied under the lock,
 * so that what is done with them (a catalog lookup) runs without it
 */
static uint64 *
keys_of_database(Oid dbid, int *nkeys)
{
	uint64	   *keys;
	uint32		live;
	uint32		i;

	*nkeys = 0;
	LWLockAcquire(unused->lock, LW_SHARED);
	live = pg_atomic_read_u32(&unused->live);
	keys = palloc(sizeof(uint64) * Max(live, 1));
	for (i = 0; i < live; i++)
	{
		uint64		k = pg_atomic_read_u64(&unused->key[unused->listed[i]]);

		if ((Oid) (k >> 32) == dbid)
			keys[(*nkeys)++] = k;
	}
	LWLockRelease(unused->lock);
	return keys;
}

/*
 * A DROP (of a table, a schema, a type, an extension, DROP OWNED) has just
 * run: the tables of this database in the set that no longer exist leave
 * it, and so do those whose creation was rolled back.  Found after the
 * statement rather than by an object access hook, which PostgreSQL would
 * call for every function call and name lookup of every query.  A drop
 * that rolls back afterwards leaves its tables out of the set: they are
 * judged as always.
 */
void
unused_tables_forget_dropped(void)
{
	uint64	   *keys;
	int			nkeys;
	int			i;

	if (!unused_tables_any())
		return;
	keys = keys_of_database(MyDatabaseId, &nkeys);
	for (i = 0; i < nkeys; i++)
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum((Oid) keys[i])))
			remove_key(keys[i]);
	pfree(keys);
}

/* DROP DATABASE has just run: its tables leave the set */
void
unused_tables_forget_database(Oid dbid)
{
	uint64	   *keys;
	int			nkeys;
	int			i;

	if (!unused_tables_any())
		return;
	keys = keys_of_database(dbid, &nkeys);
	for (i = 0; i < nkeys; i++)
		remove_key(keys[i]);
	pfree(keys);
}
