/*-------------------------------------------------------------------------
 *
 * plan_int.h
 *	  What plan.c (the flow of plan()) and plan_steps.c (the safe form of
 *	  each statement family) share: a step, the planner's state, and the
 *	  family planners.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/plan_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PLAN_INT_H
#define PLAN_INT_H

#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"

#include "migration_guard.h"

typedef enum PlanPhase
{
	PHASE_EXPAND,
	PHASE_BACKFILL,
	PHASE_CONSTRAIN,
	PHASE_SWITCH,
	PHASE_CONTRACT
} PlanPhase;

typedef struct PlanStep
{
	PlanPhase	phase;
	PlanPhase	rank;			/* where it is ordered: its phase, or later */
	int			statement;		/* of the naive script */
	int			seq;			/* order of creation: ties in a phase */
	char	   *sql;
	bool		outside;		/* must run outside a transaction block */
	char	   *verify;
	char	   *undo;
	char	   *deploy;
	char	   *note;

	bool		backfill;		/* a CALL of backfill(): locks rows per batch */

	/* a column backfill, written out once merged (see merge_fills) */
	Oid			fill_relid;
	char	   *fill_rel;
	List	   *fill_cols;		/* char *: the columns, quoted */
	List	   *fill_values;	/* char *: their values */
	List	   *fill_conds;		/* char *: the rows that still need one */

	/*
	 * A rule whose proof the dry run cannot see: the ATTACH after the
	 * plan's own validated CHECK (check() proves an attach by the catalog's
	 * constraints only); the server sees the CHECK and lets it through
	 */
	int			proved_rule;

	/* from the dry run of the plan */
	int			first_line;		/* where the step starts in the plan script */
	char	   *relation;
	LOCKMODE	lockmode;
	const char *hold;
	int64		bytes;
	bool		has_bytes;
} PlanStep;

typedef struct Planner
{
	List	   *steps;
	int			statement;
	PlanPhase	floor;			/* the statement's steps come no earlier */
	PlanPhase	next_floor;		/* nor later statements': see add_step() */
	List	   *made;			/* RangeVar *: tables the script creates */
	const char *script;			/* the naive script: parse locations */
	bool		on_made;		/* the statement changes one of them: expand */
	int			seq;
} Planner;

/* plan_steps.c: building a step */
extern PlanStep *add_step(Planner *p, PlanPhase phase, char *sql, bool outside,
						  char *verify, char *undo);
extern PlanStep *as_written(Planner *p, PlanPhase phase, const char *sql,
							Node *stmt);
extern void cannot_plan(Planner *p, const char *sql, Node *stmt,
						const char *why);
extern PlanPhase phase_of(Node *stmt);
extern const char *lit(const char *s);
extern RelEffect *planned_effect(const RelEffect *eff);

/*
 * plan_steps.c: the safe form of each family.  Each returns false if it
 * cannot plan the statement (with the reason in *why where it has one);
 * plan.c then drops the steps it added and keeps the statement as written,
 * with a note.
 */
extern bool plan_alter_table(Planner *p, AlterTableStmt *stmt, const char *sql,
							 List *found, char **why);
extern bool plan_create_index(Planner *p, const RelEffect *eff, IndexStmt *stmt,
							  const char *sql);
extern bool plan_drop_index(Planner *p, DropStmt *stmt);
extern bool plan_deletes_rows(Planner *p, Node *stmt, const char *sql,
							  List *found);
extern bool plan_reindex(Planner *p, ReindexStmt *rs, const char *sql);
extern bool plan_refresh(Planner *p, RefreshMatViewStmt *rm,
						 const RelEffect *eff, char **why);
extern bool plan_rename(Planner *p, RenameStmt *rn, const char *sql,
						const Finding *f);
extern bool plan_update(Planner *p, UpdateStmt *stmt, const char *sql,
						char **why);

#endif							/* PLAN_INT_H */
