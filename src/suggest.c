/*-------------------------------------------------------------------------
 *
 * suggest.c
 *	  The safe alternative, written as SQL built from the user's own
 *	  statement: their table, column, index and constraint names, and where
 *	  possible their own text with the risky part changed.
 *
 * Cutting the user's text needs a tokenizer that knows SQL's quoting rules
 * (strings, quoted identifiers, dollar quotes, comments), so that a comma
 * or keyword inside a literal is never taken for structure.  The statement
 * has already been parsed by PostgreSQL, so this tokenizer only has to find
 * boundaries, never to reject anything.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/suggest.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "migration_guard.h"

/* Rows per batch in the backfill loops we suggest */
#define BACKFILL_BATCH "10000"

typedef struct SqlToken
{
	int			start;
	int			end;			/* one past the last byte */
	char		kind;			/* 'w' word, 'q' quoted or literal, 'p' punctuation */
} SqlToken;

static bool
ident_char(unsigned char c, bool first)
{
	return c == '_' || c >= 0x80 || isalpha(c) || (!first && (isdigit(c) || c == '$'));
}

/*
 * Split SQL text into tokens, skipping whitespace and comments.  Returns
 * the number of tokens; *tokens is palloc'd.
 */
static int
sql_tokenize(const char *s, SqlToken **tokens)
{
	int			len = strlen(s);
	int			n = 0;
	int			cap = 64;
	int			i = 0;
	SqlToken   *tok = palloc(cap * sizeof(SqlToken));

	while (i < len)
	{
		unsigned char c = s[i];
		int			start = i;
		char		kind = 'p';

		if (isspace(c))
		{
			i++;
			continue;
		}
		if (c == '-' && s[i + 1] == '-')
		{
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && s[i + 1] == '*')
		{
			int			depth = 0;

			do
			{
				if (s[i] == '/' && s[i + 1] == '*')
				{
					depth++;
					i += 2;
				}
				else if (s[i] == '*' && s[i + 1] == '/')
				{
					depth--;
					i += 2;
				}
				else
					i++;
			} while (i < len && depth > 0);
			continue;
		}

		if (c == '\'' || c == '"' ||
			((c == 'E' || c == 'e') && s[i + 1] == '\''))
		{
			bool		backslash = (c == 'E' || c == 'e');
			char		quote;

			if (backslash)
				i++;
			quote = s[i++];
			while (i < len)
			{
				if (backslash && s[i] == '\\' && i + 1 < len)
					i += 2;
				else if (s[i] == quote && s[i + 1] == quote)
					i += 2;
				else if (s[i] == quote)
				{
					i++;
					break;
				}
				else
					i++;
			}
			kind = 'q';
		}
		else if (c == '$' && (s[i + 1] == '$' || ident_char(s[i + 1], true)))
		{
			/* $tag$ ... $tag$, or a $ inside something we do not know */
			int			j = i + 1;

			while (j < len && s[j] != '$' && ident_char(s[j], false))
				j++;
			if (j < len && s[j] == '$')
			{
				int			taglen = j - i + 1;
				const char *close;

				close = strstr(s + j + 1, pnstrdup(s + i, taglen));
				i = close ? (int) (close - s) + taglen : len;
				kind = 'q';
			}
			else
				i++;
		}
		else if (ident_char(c, true) || isdigit(c))
		{
			i++;
			while (i < len && ident_char(s[i], false))
				i++;
			kind = 'w';
		}
		else
			i++;

		if (n == cap)
		{
			cap *= 2;
			tok = repalloc(tok, cap * sizeof(SqlToken));
		}
		tok[n].start = start;
		tok[n].end = i;
		tok[n].kind = kind;
		n++;
	}
	*tokens = tok;
	return n;
}

static bool
token_is(const char *s, const SqlToken *t, const char *word)
{
	int			wlen = strlen(word);

	return t->kind == 'w' && t->end - t->start == wlen &&
		pg_strncasecmp(s + t->start, word, wlen) == 0;
}

/*
 * One statement's text out of a query string, as PostgreSQL locates it
 * (stmt_location, stmt_len; a length of 0 means "to the end"), without
 * surrounding blanks or the final semicolon.
 */
char *
sql_cut_statement(const char *query, int location, int len)
{
	const char *start;
	int			n;

	if (query == NULL)
		return pstrdup("");

	/*
	 * The location is the parser's, inside this very string.  Nothing before
	 * it is measured: a script of N statements is cut N times, and a
	 * strlen() of the whole each time made check() quadratic.
	 */
	if (location < 0)
	{
		location = 0;
		len = 0;
	}
	start = query + location;
	n = len > 0 ? strnlen(start, len) : strlen(start);
	/*
	 * In a multi-statement string a statement's location starts right after
	 * the previous semicolon: skip the blanks and comments in front of it
	 * ("-- CreateIndex" in a Prisma migration file).
	 */
	for (;;)
	{
		if (n > 0 && isspace((unsigned char) *start))
		{
			start++;
			n--;
		}
		else if (n > 1 && start[0] == '-' && start[1] == '-')
		{
			while (n > 0 && *start != '\n')
			{
				start++;
				n--;
			}
		}
		else if (n > 1 && start[0] == '/' && start[1] == '*')
		{
			int			depth = 0;

			do
			{
				if (n > 1 && start[0] == '/' && start[1] == '*')
				{
					depth++;
					start += 2;
					n -= 2;
				}
				else if (n > 1 && start[0] == '*' && start[1] == '/')
				{
					depth--;
					start += 2;
					n -= 2;
				}
				else
				{
					start++;
					n--;
				}
			} while (n > 0 && depth > 0);
		}
		else
			break;
	}
	while (n > 0 && (isspace((unsigned char) start[n - 1]) || start[n - 1] == ';'))
		n--;
	return pnstrdup(start, n);
}

/*
 * The text of each subcommand of an ALTER TABLE statement, in order: the
 * grammar keeps them in the order written, separated by top-level commas.
 * Returns NIL for anything that does not look like ALTER ... name cmd, ...
 */
List *
sql_split_alter_cmds(const char *sql)
{
	SqlToken   *t;
	int			n = sql_tokenize(sql, &t);
	int			i = 0;
	int			depth = 0;
	int			seg_start;
	List	   *result = NIL;

	if (n < 3 || !token_is(sql, &t[0], "ALTER"))
		return NIL;
	i = 1;
	if (token_is(sql, &t[i], "MATERIALIZED") || token_is(sql, &t[i], "FOREIGN"))
		i++;
	i++;						/* TABLE, INDEX, VIEW */
	if (i + 1 < n && token_is(sql, &t[i], "IF") && token_is(sql, &t[i + 1], "EXISTS"))
		i += 2;
	if (i < n && token_is(sql, &t[i], "ONLY"))
		i++;
	/* the name: ident [. ident [. ident]] [*] */
	i++;
	while (i + 1 < n && sql[t[i].start] == '.' && t[i].kind == 'p')
		i += 2;
	if (i < n && sql[t[i].start] == '*' && t[i].kind == 'p')
		i++;
	if (i >= n)
		return NIL;

	seg_start = i;
	for (; i <= n; i++)
	{
		char		c = i < n && t[i].kind == 'p' ? sql[t[i].start] : '\0';

		if (c == '(' || c == '[')
			depth++;
		else if (c == ')' || c == ']')
			depth--;
		else if (i == n || (c == ',' && depth == 0))
		{
			if (i > seg_start)
				result = lappend(result,
								 pnstrdup(sql + t[seg_start].start,
										  t[i - 1].end - t[seg_start].start));
			seg_start = i + 1;
		}
	}
	return result;
}

/* The text with "insert" put in front of the first token equal to "word" */
char *
sql_insert_before_word(const char *sql, const char *word, int nth_after,
				   const char *insert)
{
	SqlToken   *t;
	int			n = sql_tokenize(sql, &t);
	int			i;

	for (i = 0; i < n; i++)
	{
		if (token_is(sql, &t[i], word))
		{
			int			at = (i + nth_after < n) ? t[i + nth_after].start :
			(int) strlen(sql);

			return psprintf("%.*s%s%s", at, sql, insert, sql + at);
		}
	}
	return NULL;
}

/*
 * "CHECK (expr)" as written at the first CHECK keyword of the text, or NULL
 * when there is none.
 */
static char *
check_clause_text(const char *sql)
{
	SqlToken   *t;
	int			n = sql_tokenize(sql, &t);
	int			i;

	for (i = 0; i + 1 < n; i++)
	{
		if (token_is(sql, &t[i], "CHECK") && t[i + 1].kind == 'p' &&
			sql[t[i + 1].start] == '(')
		{
			int			depth = 0;
			int			j;

			for (j = i + 1; j < n; j++)
			{
				char		c = t[j].kind == 'p' ? sql[t[j].start] : '\0';

				if (c == '(')
					depth++;
				else if (c == ')' && --depth == 0)
					return pnstrdup(sql + t[i].start, t[j].end - t[i].start);
			}
			return NULL;
		}
	}
	return NULL;
}

/*
 * A recipe as its steps, one per line: the text cut after each ';' outside
 * quotes, comments and parentheses.  A comment or a parenthesized note
 * right after a ';' (the backfill's "repeat until it updates 0 rows", "(outside
 * a transaction block)") belongs to the step before it.
 */
List *
suggest_recipe_steps(const char *recipe)
{
	SqlToken   *tok;
	int			n = sql_tokenize(recipe, &tok);
	List	   *steps = NIL;
	int			from = 0;
	int			depth = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		char		c = recipe[tok[i].start];
		int			cut;

		if (tok[i].kind != 'p')
			continue;
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		if (c != ';' || depth > 0)
			continue;
		cut = tok[i].end;
		/* a comment right after it */
		while (recipe[cut] == ' ')
			cut++;
		if (recipe[cut] == '/' && recipe[cut + 1] == '*')
		{
			const char *close = strstr(recipe + cut, "*/");

			cut = close ? (int) (close - recipe) + 2 : (int) strlen(recipe);
		}
		else
			cut = tok[i].end;
		/* or a parenthesized note: to its closing parenthesis */
		if (i + 1 < n && recipe[tok[i + 1].start] == '(' &&
			tok[i + 1].start >= cut)
		{
			int			j;
			int			d = 0;

			for (j = i + 1; j < n; j++)
			{
				if (tok[j].kind == 'p' && recipe[tok[j].start] == '(')
					d++;
				else if (tok[j].kind == 'p' && recipe[tok[j].start] == ')' && --d == 0)
					break;
			}
			if (j < n)
			{
				cut = tok[j].end;
				i = j;
			}
		}
		while (i + 1 < n && tok[i + 1].start < cut)
			i++;
		steps = lappend(steps, pnstrdup(recipe + from, cut - from));
		from = cut;
	}
	if (recipe[from] != '\0')
		steps = lappend(steps, pstrdup(recipe + from));

	/* trimmed, none empty, and a BEGIN ... COMMIT block one step */
	{
		List	   *trimmed = NIL;
		ListCell   *lc;
		bool		in_block = false;

		foreach(lc, steps)
		{
			char	   *step = (char *) lfirst(lc);
			int			len;

			while (isspace((unsigned char) *step))
				step++;
			len = strlen(step);
			while (len > 0 && isspace((unsigned char) step[len - 1]))
				step[--len] = '\0';
			if (len == 0)
				continue;
			if (in_block)
				llast(trimmed) = psprintf("%s %s", (char *) llast(trimmed), step);
			else
				trimmed = lappend(trimmed, step);
			if (pg_strncasecmp(step, "BEGIN;", 6) == 0)
				in_block = true;
			else if (pg_strncasecmp(step, "COMMIT;", 7) == 0)
				in_block = false;
		}
		return trimmed;
	}
}

/* "ALTER TABLE t <cmd> NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT c;" */
static void
append_not_valid_recipe(StringInfo buf, const RelEffect *eff, const Hazard *hz,
						const char *conname)
{
	const char *cmd = hz->cause_sql;
	char	   *named = NULL;

	if (cmd != NULL && !sql_insert_before_word(cmd, "CONSTRAINT", 0, ""))
		named = sql_insert_before_word(cmd, "ADD", 1,
								   psprintf("CONSTRAINT %s ",
											quote_identifier(conname)));
	if (named == NULL)
		named = (char *) cmd;
	if (named != NULL)
		appendStringInfo(buf, "ALTER TABLE %s %s NOT VALID; ", eff->relname, named);
	else
		appendStringInfo(buf, "ALTER TABLE %s ADD CONSTRAINT %s ... NOT VALID; ",
						 eff->relname, quote_identifier(conname));
	appendStringInfo(buf, "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					 eff->relname, quote_identifier(conname));
}

/* The backfill loop we suggest everywhere: small batches, no long lock */
static void
append_backfill(StringInfo buf, const char *rel, const char *col,
				const char *value, const char *pending)
{
	appendStringInfo(buf,
					 "UPDATE %s SET %s = %s WHERE ctid IN (SELECT ctid FROM %s WHERE %s LIMIT "
					 BACKFILL_BATCH "); /* repeat until it updates 0 rows */",
					 rel, col, value, rel, pending);
}

static void
append_not_null_recipe(StringInfo buf, const char *rel, const char *relname,
					   const char *col, const char *conname,
					   const char *existing)
{
	char	   *con = conname ? pstrdup(conname) :
	psprintf("%s_%s_not_null", relname, col);
	const char *qcon = quote_identifier(con);
	const char *qcol = quote_identifier(col);

#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
	/*
	 * 18: the not-null constraint itself, NOT VALID, then validated; or, if
	 * the column has a NOT VALID one already, validating that one
	 */
	if (existing != NULL)
		appendStringInfo(buf, "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						 rel, quote_identifier(existing));
	else
		appendStringInfo(buf,
						 "ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID; "
						 "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						 rel, qcon, qcol, rel, qcon);
#else
	appendStringInfo(buf,
					 "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; "
					 "ALTER TABLE %s VALIDATE CONSTRAINT %s; "
					 "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; "
					 "ALTER TABLE %s DROP CONSTRAINT %s;",
					 rel, qcon, qcol, rel, qcon, rel, qcol, rel, qcon);
#endif
}

/* A name PostgreSQL itself would choose, good enough for a suggestion */
static char *
bare_relname(const RelEffect *eff)
{
	char	   *name = OidIsValid(eff->relid) ? get_rel_name(eff->relid) : NULL;

	return name ? name : pstrdup(eff->relname);
}

static char *
key_columns(List *keys)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier(strVal(lfirst(lc))));
	return buf.data;
}

/* At most this many partitions are spelled out in a hint */
#define HINT_MAX_PARTITIONS 8

/*
 * CREATE INDEX on a partitioned table: an invalid index on the parent only,
 * one CREATE INDEX CONCURRENTLY per partition, each attached to it; the
 * parent's index becomes valid when the last one is attached.  Built from
 * the user's statement: everything after the table name (USING, columns,
 * INCLUDE, WHERE) is kept as written.
 */
static void
append_partitioned_index_recipe(StringInfo buf, const RelEffect *eff,
								const Hazard *hz)
{
	const char *sql = eff->stmt_sql;
	SqlToken   *t;
	int			n = sql_tokenize(sql, &t);
	int			i;
	int			on = -1;
	const char *tail = "";
	char	   *idxname = hz->subject ? pstrdup(hz->subject) :
	psprintf("%s_idx", bare_relname(eff));
	const char *qidx = quote_identifier(idxname);
	bool		unique = false;
	List	   *parts;
	ListCell   *lc;
	int			shown = 0;

	for (i = 0; i < n && on < 0; i++)
	{
		if (token_is(sql, &t[i], "UNIQUE"))
			unique = true;
		if (token_is(sql, &t[i], "ON"))
			on = i;
	}
	if (on >= 0)
	{
		i = on + 1;
		if (i < n && token_is(sql, &t[i], "ONLY"))
			i++;
		i++;					/* the table name, maybe qualified */
		while (i + 1 < n && t[i].kind == 'p' && sql[t[i].start] == '.')
			i += 2;
		if (i < n)
			tail = sql + t[i].start;
	}

	appendStringInfo(buf, "CREATE %sINDEX %s ON ONLY %s %s; ",
					 unique ? "UNIQUE " : "", qidx, eff->relname, tail);
	parts = find_inheritance_children(eff->relid, NoLock);
	foreach(lc, parts)
	{
		Oid			part = lfirst_oid(lc);
		char	   *partidx;

		if (shown++ == HINT_MAX_PARTITIONS)
		{
			appendStringInfo(buf, "... and the same for the other %d partitions; ",
							 list_length(parts) - HINT_MAX_PARTITIONS);
			break;
		}
		partidx = psprintf("%s_%s", get_rel_name(part), idxname);
		/* a sub-partitioned child needs the same recipe one level down */
		appendStringInfo(buf, "CREATE %sINDEX %s%s ON %s%s %s; %sALTER INDEX %s ATTACH PARTITION %s; ",
						 unique ? "UNIQUE " : "",
						 get_rel_relkind(part) == RELKIND_PARTITIONED_TABLE ?
						 "" : "CONCURRENTLY ",
						 quote_identifier(partidx),
						 get_rel_relkind(part) == RELKIND_PARTITIONED_TABLE ?
						 "ONLY " : "",
						 rel_quoted_name(part), tail,
						 get_rel_relkind(part) == RELKIND_PARTITIONED_TABLE ?
						 "/* then the same for its partitions */ " : "",
						 qidx, quote_identifier(partidx));
	}
	appendStringInfoString(buf, "(each CONCURRENTLY outside a transaction block)");
}

/*
 * The safe SQL for a hazard, as one line of statements the user can paste.
 */
char *
suggest_safe_sql(const RelEffect *eff, const Hazard *hz)
{
	StringInfoData buf;
	const char *rel = eff->relname;
	char	   *relname = bare_relname(eff);
	const char *col = hz->subject ? quote_identifier(hz->subject) : NULL;

	initStringInfo(&buf);
	if (hz->cause != NULL && IsA(hz->cause, AlterTableCmd) &&
		is_validate_cmd((AlterTableCmd *) hz->cause))
	{
		/* VALIDATE alone takes only SHARE UPDATE EXCLUSIVE */
		appendStringInfo(&buf, "ALTER TABLE %s VALIDATE CONSTRAINT %s; then the rest of the statement, "
						 "without the VALIDATE, as a statement of its own.",
						 rel, quote_identifier(hz->subject));
		return buf.data;
	}
	if (hz->cause != NULL && IsA(hz->cause, AlterDomainStmt))
	{
		/* no weaker form: NOT VALID now, validation when writes can wait */
		AlterDomainStmt *ad = (AlterDomainStmt *) hz->cause;
		const char *dom = hz->subject ? hz->subject : "<domain>";
		const char *base = strrchr(dom, '.') ? strrchr(dom, '.') + 1 : dom;

		if (ad->subtype == 'V')
			appendStringInfo(&buf, "Run it when writes to %s can wait for the scan: validating a domain "
							 "constraint has no form that lets them through. Until then the constraint "
							 "checks every new and updated value already.", rel);
		else if (ad->subtype == 'O')
			appendStringInfo(&buf, "ALTER DOMAIN %s ADD CONSTRAINT %s CHECK (VALUE IS NOT NULL) NOT VALID; "
							 "(new and updated values are checked from then on) then, when writes to %s can "
							 "wait for the scan, ALTER DOMAIN %s VALIDATE CONSTRAINT %s; the CHECK enforces what "
							 "SET NOT NULL would, and SET NOT NULL itself always scans.",
							 dom, quote_identifier(psprintf("%s_not_null", base)), rel, dom,
							 quote_identifier(psprintf("%s_not_null", base)));
		else
		{
			Constraint *con = (Constraint *) ad->def;
			char	   *stmt_sql = pstrdup(eff->stmt_sql);
			int			len = strlen(stmt_sql);

			while (len > 0 && (stmt_sql[len - 1] == ';' || isspace((unsigned char) stmt_sql[len - 1])))
				stmt_sql[--len] = '\0';
			appendStringInfo(&buf, "%s NOT VALID; (new and updated values are checked from then on) then, "
							 "when writes to %s can wait for the scan, ALTER DOMAIN %s VALIDATE CONSTRAINT %s;",
							 stmt_sql, rel, dom,
							 quote_identifier(con->conname ? con->conname :
											  psprintf("%s_check", base)));
		}
		return buf.data;
	}
	switch (hz->rule)
	{
		case RULE_CREATE_INDEX:
			if (OidIsValid(eff->relid) &&
				get_rel_relkind(eff->relid) == RELKIND_PARTITIONED_TABLE)
				append_partitioned_index_recipe(&buf, eff, hz);
			else
			{
				char	   *conc = sql_insert_before_word(eff->stmt_sql, "INDEX", 1,
													  "CONCURRENTLY ");

				appendStringInfo(&buf, "%s; (CONCURRENTLY cannot run inside a transaction block: "
								 "put it in a migration of its own, without a transaction)",
								 conc ? conc : "CREATE INDEX CONCURRENTLY ...");
			}
			break;
		case RULE_DROP_INDEX:
			appendStringInfo(&buf, "DROP INDEX CONCURRENTLY %s; (outside a transaction block, one index per statement)",
							 rel_quoted_name(hz->other_relid));
			break;
		case RULE_REINDEX:
			appendStringInfo(&buf, "%s; (outside a transaction block)",
							 sql_insert_before_word(eff->stmt_sql, "REINDEX", 2, "CONCURRENTLY ")
							 ? sql_insert_before_word(eff->stmt_sql, "REINDEX", 2, "CONCURRENTLY ")
							 : "REINDEX ... CONCURRENTLY");
			break;
		case RULE_ADD_COLUMN_REWRITE:
			appendStringInfo(&buf, "ALTER TABLE %s ADD COLUMN %s %s; ",
							 rel, col, hz->type_sql ? hz->type_sql : "<type>");
			if (hz->expr_sql != NULL)
			{
				char	   *pending = psprintf("%s IS NULL", col);

				appendStringInfo(&buf, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s; ",
								 rel, col, hz->expr_sql);
				append_backfill(&buf, rel, col, "DEFAULT", pending);
			}
			else
			{
				appendStringInfo(&buf, "/* fill it for new rows with a default or a trigger, then backfill in batches: */ ");
				append_backfill(&buf, rel, col, "<value>", psprintf("%s IS NULL", col));
			}
			appendStringInfoString(&buf, " then, if it must be NOT NULL: ");
			append_not_null_recipe(&buf, rel, relname, hz->subject, NULL, NULL);
			break;
		case RULE_ALTER_COLUMN_TYPE:
			{
				char	   *newcol = psprintf("%s_new", hz->subject);
				const char *qnew = quote_identifier(newcol);
				char	   *fn = psprintf("%s_%s_sync", relname, newcol);
				const char *qfn = quote_identifier(fn);
				ColumnDef  *def = castNode(ColumnDef, ((AlterTableCmd *) hz->cause)->def);

				/*
				 * A plain assignment, no explicit cast: it coerces the way
				 * ALTER TYPE does, so a value too long for varchar(n) raises
				 * an error instead of being cut short.
				 */
				bool		plain = def->raw_default == NULL || IsA(def->raw_default, ColumnRef);
				const char *value = plain ? col : "/* your USING expression */";
				const char *new_value = plain ? psprintf("NEW.%s", col) :
				"/* your USING expression, on NEW */";

				appendStringInfo(&buf,
								 "ALTER TABLE %s ADD COLUMN %s %s; "
								 "CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.%s := %s; RETURN NEW; END$$; "
								 "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s(); ",
								 rel, qnew, hz->type_sql, qfn, qnew, new_value, qfn, rel, qfn);
				append_backfill(&buf, rel, qnew, value,
								psprintf("%s IS NULL AND %s IS NOT NULL", qnew, col));
				appendStringInfo(&buf,
								 " then switch the application to %s and, in one short transaction, "
								 "drop the trigger, rename %s away and %s to %s, and drop the old column later.",
								 qnew, col, qnew, col);
			}
			break;
		case RULE_SET_NOT_NULL:
			append_not_null_recipe(&buf, rel, relname, hz->subject,
								   IsA(hz->cause, Constraint) &&
								   ((Constraint *) hz->cause)->contype == CONSTR_NOTNULL ?
								   ((Constraint *) hz->cause)->conname : NULL,
#ifdef MG_HAS_NOT_NULL_CONSTRAINTS
								   OidIsValid(eff->relid) ?
								   rel_not_valid_not_null(eff->relid, hz->subject) :
#endif
								   NULL);
			break;
		case RULE_ADD_CHECK:
			if (!hz->inline_column)
				append_not_valid_recipe(&buf, eff, hz,
										hz->subject ? hz->subject :
										psprintf("%s_check", relname));
			else
			{
				/* a CHECK written on ADD COLUMN */
				char	   *clause = check_clause_text(hz->cause_sql ? hz->cause_sql : "");
				Constraint *con = (Constraint *) hz->cause;
				char	   *name = con->conname ? con->conname :
				psprintf("%s_%s_check", relname, hz->subject);

				appendStringInfo(&buf,
								 "add the column without the CHECK, then "
								 "ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID; "
								 "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
								 rel, quote_identifier(name),
								 clause ? clause : "CHECK (...)",
								 rel, quote_identifier(name));
			}
			break;
		case RULE_ADD_FOREIGN_KEY:
			if (IsA(hz->cause, AlterTableCmd) &&
				((AlterTableCmd *) hz->cause)->subtype == AT_AttachPartition)
			{
				/* a validated match on the partition is adopted, not checked */
				const char *qcon = quote_identifier(hz->subject);

				appendStringInfo(&buf,
								 "ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID; "
								 "ALTER TABLE %s VALIDATE CONSTRAINT %s; "
								 "then ATTACH PARTITION adopts that foreign key instead of checking every row under its lock.",
								 rel, qcon,
								 hz->expr_sql ? hz->expr_sql : "FOREIGN KEY (...) REFERENCES ...",
								 rel, qcon);
			}
			else if (IsA(hz->cause, AlterTableCmd))
			{
				/* ALTER CONSTRAINT ... ENFORCED (18): re-added NOT VALID */
				const char *qcon = quote_identifier(hz->subject);

				appendStringInfo(&buf,
								 "ALTER TABLE %s DROP CONSTRAINT %s, ADD CONSTRAINT %s %s NOT VALID; "
								 "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
								 rel, qcon, qcon,
								 hz->expr_sql ? hz->expr_sql : "FOREIGN KEY (...) REFERENCES ...",
								 rel, qcon);
			}
			else if (!hz->inline_column)
			{
				Constraint *con = (Constraint *) hz->cause;
				char	   *name = con->conname ? con->conname :
				psprintf("%s_%s_fkey", relname,
						 con->fk_attrs ? strVal(linitial(con->fk_attrs)) : "ref");

				append_not_valid_recipe(&buf, eff, hz, name);
			}
			else
			{
				/* inline REFERENCES on ADD COLUMN with a default */
				Constraint *con = (Constraint *) hz->cause;
				char	   *name = psprintf("%s_%s_fkey", relname, hz->subject);

				appendStringInfo(&buf,
								 "add the column without REFERENCES, then "
								 "ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s%s%s%s NOT VALID; "
								 "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
								 rel, quote_identifier(name), col,
								 quote_qualified_identifier(con->pktable->schemaname,
															con->pktable->relname),
								 con->pk_attrs ? " (" : "",
								 con->pk_attrs ? key_columns(con->pk_attrs) : "",
								 con->pk_attrs ? ")" : "",
								 rel, quote_identifier(name));
			}
			break;
		case RULE_ADD_UNIQUE_CONSTRAINT:
			if (IsA(hz->cause, Constraint) &&
				((Constraint *) hz->cause)->contype != CONSTR_EXCLUSION)
			{
				Constraint *con = (Constraint *) hz->cause;
				bool		pk = con->contype == CONSTR_PRIMARY;
				char	   *name = con->conname ? con->conname :
				pk ? psprintf("%s_pkey", relname) :
				psprintf("%s_%s_key", relname,
						 con->keys ? strVal(linitial(con->keys)) : "col");
				const char *qname = quote_identifier(name);

				appendStringInfo(&buf,
								 "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s); "
								 "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;",
								 qname, rel, key_columns(con->keys),
								 rel, qname, pk ? "PRIMARY KEY" : "UNIQUE", qname);
			}
			else if (IsA(hz->cause, ColumnDef))
			{
				char	   *name = psprintf("%s_%s_key", relname, hz->subject);
				const char *qname = quote_identifier(name);

				appendStringInfo(&buf,
								 "add the column without the constraint, then "
								 "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s); "
								 "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s;",
								 qname, rel, col, rel, qname, qname);
			}
			else
				appendStringInfoString(&buf,
									   "An exclusion constraint cannot be built online: "
									   "add it in a maintenance window, or enforce the rule in the application until then.");
			break;
		case RULE_REWRITE_TABLE:
#ifdef MG_HAS_SET_EXPRESSION
			if (IsA(hz->cause, AlterTableCmd) &&
				((AlterTableCmd *) hz->cause)->subtype == AT_SetExpression)
			{
				/* of a stored generated column */
				appendStringInfo(&buf, "A stored generated column cannot change its expression online. "
#ifdef MG_HAS_VIRTUAL_GENERATED
								 "Add a new column computed the new way instead (a VIRTUAL generated "
								 "column is added without a rewrite), "
#else
								 "Add a new column instead, filled for new rows by a trigger and "
								 "backfilled in batches, "
#endif
								 "switch the application to it, then drop %s.",
								 quote_identifier(((AlterTableCmd *) hz->cause)->name));
			}
			else
#endif
			if (IsA(hz->cause, VacuumStmt))
				appendStringInfo(&buf, "VACUUM %s; (it makes the space reusable without blocking reads or writes) "
								 "To give space back to the operating system online, use pg_repack: pg_repack --table=%s",
								 rel, rel);
			else
				appendStringInfo(&buf, "PostgreSQL has no online form of this rewrite: "
								 "rebuild online with pg_repack (pg_repack --table=%s), or run it in a maintenance window.",
								 rel);
			break;
		case RULE_ATTACH_PARTITION:
			{
				char	   *con = psprintf("%s_partition_bound", relname);
				const char *qcon = quote_identifier(con);

				if (hz->why != NULL)
					appendStringInfo(&buf,
									 "Create on %s each index of the parent it lacks, with CREATE INDEX "
									 "CONCURRENTLY (ATTACH PARTITION adopts matching indexes instead of building them); ",
									 rel);
				if (hz->expr_sql != NULL || hz->why == NULL)
					appendStringInfo(&buf,
									 "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID; "
									 "ALTER TABLE %s VALIDATE CONSTRAINT %s; "
									 "then %s (it skips the scan), and ALTER TABLE %s DROP CONSTRAINT %s;",
									 rel, qcon,
									 hz->expr_sql ? hz->expr_sql :
									 IsA(hz->cause, CreateStmt) ?
									 "<expression excluding the bound of the new partition>" :
									 "<expression matching the partition bound>",
									 rel, qcon,
									 IsA(hz->cause, CreateStmt) ?
									 "CREATE TABLE ... PARTITION OF" : "ATTACH PARTITION",
									 rel, qcon);
			}
			break;
		case RULE_DETACH_PARTITION:
			appendStringInfo(&buf, "ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY; "
							 "(outside a transaction block; not possible while the table has a default partition)",
							 rel, hz->subject);
			break;
		case RULE_REFRESH_MATVIEW:
			appendStringInfo(&buf, "REFRESH MATERIALIZED VIEW CONCURRENTLY %s; "
							 "(needs a unique index on the view: CREATE UNIQUE INDEX CONCURRENTLY ON %s (...))",
							 rel, rel);
			break;
		case RULE_DROP_COLUMN:
			appendStringInfo(&buf, "Deploy application code that no longer reads or writes column %s "
							 "(Rails: ignored_columns; Prisma and Django: remove the field) before you drop it.",
							 col);
			break;
		case RULE_RENAME_COLUMN:
			appendStringInfo(&buf, "Add the new column, write to both, backfill, move the reads, "
							 "and only then drop %s (or rename when no deployed code uses %s any more).",
							 col, col);
			break;
		case RULE_RENAME_TABLE:
			appendStringInfo(&buf, "BEGIN; ALTER TABLE %s RENAME TO %s; CREATE VIEW %s AS SELECT * FROM %s; COMMIT; "
							 "then drop the view once no deployed code uses the old name.",
							 rel, quote_identifier(hz->subject), rel,
							 quote_identifier(hz->subject));
			break;
		case RULE_DROP_TABLE:
			appendStringInfo(&buf, "Deploy code that no longer uses %s and keep a copy (pg_dump --table=%s) before you drop it.",
							 rel, rel);
			break;
		case RULE_TRUNCATE:
			appendStringInfo(&buf, "Make sure no deployed code still needs the rows of %s "
							 "(to remove only some of them, DELETE in batches).", rel);
			break;
		case RULE_LOCK_QUEUE:
			if (hz->holder && hz->holder->pid != 0)
				appendStringInfo(&buf, "Retry when that transaction has ended, or end it: SELECT pg_terminate_backend(%d); "
								 "(to wait for it anyway, set a lock_timeout of your own: SET lock_timeout = '10s')",
								 hz->holder->pid);
			else
				appendStringInfoString(&buf, "Finish the prepared transaction (COMMIT PREPARED or ROLLBACK PREPARED; see pg_prepared_xacts), then retry.");
			break;
		case RULE_EXCLUSIVE_LOCK_HELD:	/* rules.c writes its own hint */
		case NUM_RULES:
			break;
	}
	return buf.data;
}

/*
 * The SET list and the WHERE condition of "UPDATE name SET ... [WHERE ...]"
 * as written, for a backfill of the same rows.  False if the statement has
 * anything else at the top level (FROM, RETURNING, WHERE CURRENT OF).
 */
bool
sql_cut_update(const char *sql, char **set_clause, char **where_clause)
{
	SqlToken   *t;
	int			n = sql_tokenize(sql, &t);
	int			i;
	int			depth = 0;
	int			set_at = -1;
	int			where_at = -1;
	int			end;

	for (i = 0; i < n; i++)
	{
		char		c = t[i].kind == 'p' ? sql[t[i].start] : '\0';

		if (c == '(' || c == '[')
			depth++;
		else if (c == ')' || c == ']')
			depth--;
		else if (depth > 0)
			continue;
		else if (set_at < 0 && token_is(sql, &t[i], "SET"))
			set_at = i;
		else if (set_at >= 0 && where_at < 0 && token_is(sql, &t[i], "WHERE"))
			where_at = i;
		else if (set_at >= 0 && (token_is(sql, &t[i], "FROM") ||
								 token_is(sql, &t[i], "RETURNING") ||
								 token_is(sql, &t[i], "CURRENT")))
			return false;
	}
	end = n;
	while (end > 0 && t[end - 1].kind == 'p' && sql[t[end - 1].start] == ';')
		end--;
	if (set_at < 0 || set_at + 1 >= end || where_at == set_at + 1 || where_at + 1 == end)
		return false;
	*set_clause = pnstrdup(sql + t[set_at + 1].start,
						   t[(where_at > 0 ? where_at : end) - 1].end - t[set_at + 1].start);
	*where_clause = where_at > 0 ?
		pnstrdup(sql + t[where_at + 1].start, t[end - 1].end - t[where_at + 1].start) :
		NULL;
	return true;
}

/*
 * What an "ADD [CONSTRAINT name] definition" subcommand adds: the
 * definition as written, without the name.
 */
char *
sql_constraint_definition(const char *cmd)
{
	SqlToken   *t;
	int			n = sql_tokenize(cmd, &t);
	int			i = 0;

	if (i < n && token_is(cmd, &t[i], "ADD"))
		i++;
	if (i < n && token_is(cmd, &t[i], "CONSTRAINT"))
		i += 2;
	if (i >= n)
		return NULL;
	return pnstrdup(cmd + t[i].start, t[n - 1].end - t[i].start);
}

/*
 * The text of a clause of a statement, by the locations the parser gives:
 * from "from" up to "to" (-1: no bound), or to the first comma or
 * semicolon outside parentheses before it, without the blanks around.
 */
char *
sql_clause_at(const char *script, int from, int to)
{
	const char *s = script + from;
	SqlToken   *t;
	int			n = sql_tokenize(s, &t);
	int			i;
	int			depth = 0;
	int			end = 0;

	for (i = 0; i < n; i++)
	{
		char		c = t[i].kind == 'p' ? s[t[i].start] : '\0';

		if (to >= 0 && from + t[i].start >= to)
			break;
		if (c == '(' || c == '[')
			depth++;
		else if (c == ')' || c == ']')
		{
			if (--depth < 0)
				break;
		}
		else if ((c == ',' || c == ';') && depth == 0)
			break;
		end = t[i].end;
	}
	return pnstrdup(s, end);
}

/*
 * What follows a relation's name in a statement, from the parser's
 * location of the name: the rest of its clause (an index's USING, columns,
 * INCLUDE, WITH and WHERE).
 */
char *
sql_after_name(const char *script, int location)
{
	const char *s = script + location;
	SqlToken   *t;
	int			n = sql_tokenize(s, &t);
	int			i = 1;

	if (n == 0)
		return NULL;
	while (i + 1 < n && t[i].kind == 'p' && s[t[i].start] == '.')
		i += 2;
	if (i >= n)
		return pstrdup("");
	return sql_clause_at(script, location + t[i].start, -1);
}
