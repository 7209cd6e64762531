/*-------------------------------------------------------------------------
 *
 * sqlscan.c
 *	  Just enough of SQL's lexical rules to count a file's statements and
 *	  to see which of them cannot run inside a transaction block.
 *
 * The server parses the script; the client only needs to know how a tool
 * will send each file.  Prisma sends a file of one statement outside any
 * transaction block, and Flyway runs a file without a transaction when it
 * holds a statement PostgreSQL refuses inside one (CREATE INDEX
 * CONCURRENTLY, VACUUM, ...).  Quotes, dollar quotes and comments are
 * skipped as PostgreSQL's lexer skips them, with standard_conforming_strings
 * on (the default since 9.1): a backslash escapes a quote only in an
 * E'...' string, never in a plain '...' one.  Migrations written for
 * standard_conforming_strings = off, with \' in plain strings, are not
 * read as that server would read them.  The body of a CREATE FUNCTION or
 * PROCEDURE written as BEGIN ATOMIC ... END holds semicolons of its own,
 * as psql counts them.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/sqlscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "client.h"

#define WORDS_KEPT 4

/* What one statement looks like: its first words, and CONCURRENTLY */
typedef struct StatementShape
{
	char		words[WORDS_KEPT][16];
	int			nwords;
	bool		concurrently;
	bool		empty;
	bool		after_begin;	/* the last token was the word BEGIN */
	int			atomic_depth;	/* inside BEGIN ATOMIC ... END */
} StatementShape;

/* Skip a quoted string or identifier starting at p (the quote); NUL-safe */
static const char *
skip_quoted(const char *p, char quote, bool backslashes)
{
	for (p++; *p; p++)
	{
		if (backslashes && *p == '\\' && p[1])
			p++;
		else if (*p == quote)
		{
			if (p[1] == quote)
				p++;			/* doubled quote */
			else
				return p + 1;
		}
	}
	return p;
}

/* A dollar quote's tag at p ("$$" or "$tag$"), its length, or 0 */
static int
dollar_tag_length(const char *p)
{
	const char *q = p + 1;

	if (*p != '$')
		return 0;
	if (isdigit((unsigned char) *q))
		return 0;				/* $1 is a parameter */
	while (*q && (isalnum((unsigned char) *q) || *q == '_' ||
				  (unsigned char) *q >= 0x80))
		q++;
	return *q == '$' ? (int) (q - p + 1) : 0;
}

static bool
is_routine(const StatementShape *shape)
{
	/* CREATE [OR REPLACE] FUNCTION or PROCEDURE */
	return strcmp(shape->words[0], "CREATE") == 0 &&
		(strcmp(shape->words[1], "FUNCTION") == 0 ||
		 strcmp(shape->words[1], "PROCEDURE") == 0 ||
		 (strcmp(shape->words[1], "OR") == 0 &&
		  strcmp(shape->words[2], "REPLACE") == 0 &&
		  (strcmp(shape->words[3], "FUNCTION") == 0 ||
		   strcmp(shape->words[3], "PROCEDURE") == 0)));
}

/*
 * A word (an identifier or keyword, not quoted), outside parentheses or
 * not (depth).  The body of a CREATE FUNCTION or PROCEDURE written as
 * BEGIN ATOMIC ... END holds semicolons of its own, and CASE ... END nests
 * inside it; as in psql, only words outside parentheses count, so that a
 * parameter named begin, or a CASE in a parenthesized expression, is not
 * taken for one.
 */
static void
note_word(StatementShape *shape, const char *start, size_t len, int depth)
{
	char		word[16];
	size_t		i;
	bool		after_begin = shape->after_begin;

	if (len >= sizeof(word))
		len = sizeof(word) - 1;
	for (i = 0; i < len; i++)
		word[i] = (char) toupper((unsigned char) start[i]);
	word[len] = '\0';
	if (shape->nwords < WORDS_KEPT)
		strcpy(shape->words[shape->nwords++], word);
	if (strcmp(word, "CONCURRENTLY") == 0)
		shape->concurrently = true;

	shape->after_begin = false;
	if (depth > 0 || !is_routine(shape))
		return;
	if (strcmp(word, "BEGIN") == 0)
		shape->after_begin = true;
	else if (strcmp(word, "ATOMIC") == 0 && after_begin)
		shape->atomic_depth++;
	else if (strcmp(word, "CASE") == 0 && shape->atomic_depth > 0)
		shape->atomic_depth++;
	else if (strcmp(word, "END") == 0 && shape->atomic_depth > 0)
		shape->atomic_depth--;
}

static bool
word_is(const StatementShape *shape, int i, const char *word)
{
	return i < shape->nwords && strcmp(shape->words[i], word) == 0;
}

/*
 * Statements PostgreSQL refuses inside a transaction block, which make
 * Flyway run the whole file without one
 */
static bool
runs_outside_transaction(const StatementShape *shape)
{
	if ((word_is(shape, 0, "CREATE") || word_is(shape, 0, "DROP") ||
		 word_is(shape, 0, "REINDEX")) && shape->concurrently)
		return true;
	if (word_is(shape, 0, "VACUUM"))
		return true;
	if ((word_is(shape, 0, "CREATE") || word_is(shape, 0, "DROP")) &&
		(word_is(shape, 1, "DATABASE") || word_is(shape, 1, "TABLESPACE")))
		return true;
	if (word_is(shape, 0, "ALTER") && word_is(shape, 1, "SYSTEM"))
		return true;
	return false;
}

/*
 * The statements of sql that are not empty; *outside_transaction is set
 * when one of them cannot run inside a transaction block.
 */
int
count_statements(const char *sql, bool *outside_transaction)
{
	const char *p = sql;
	StatementShape shape;
	int			n = 0;
	int			depth = 0;		/* parentheses */

	*outside_transaction = false;
	memset(&shape, 0, sizeof(shape));
	shape.empty = true;
	while (*p)
	{
		int			tag;

		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*')
		{
			int			nest = 1;

			for (p += 2; *p && nest > 0; p++)
			{
				if (p[0] == '/' && p[1] == '*')
					nest++, p++;
				else if (p[0] == '*' && p[1] == '/')
					nest--, p++;
			}
			continue;
		}
		if (*p == ';' && depth == 0 && shape.atomic_depth == 0)
		{
			if (!shape.empty)
			{
				n++;
				if (runs_outside_transaction(&shape))
					*outside_transaction = true;
			}
			memset(&shape, 0, sizeof(shape));
			shape.empty = true;
			p++;
			continue;
		}
		if (isspace((unsigned char) *p))
		{
			p++;
			continue;
		}
		shape.empty = false;
		if (isalpha((unsigned char) *p) || *p == '_' ||
			(unsigned char) *p >= 0x80)
		{
			const char *start = p;

			while (*p && (isalnum((unsigned char) *p) || *p == '_' ||
						  *p == '$' || (unsigned char) *p >= 0x80))
				p++;
			/* E'...': the one string where a backslash escapes */
			if (p - start == 1 && (*start == 'E' || *start == 'e') && *p == '\'')
			{
				p = skip_quoted(p, '\'', true);
				shape.after_begin = false;
			}
			else
				note_word(&shape, start, (size_t) (p - start), depth);
			continue;
		}

		/* any other token: BEGIN is not followed by ATOMIC */
		shape.after_begin = false;
		if (*p == '(')
			depth++, p++;
		else if (*p == ')')
			depth = depth > 0 ? depth - 1 : 0, p++;
		else if (*p == '\'')
			p = skip_quoted(p, '\'', false);
		else if (*p == '"')
			p = skip_quoted(p, '"', false);
		else if ((tag = dollar_tag_length(p)) > 0)
		{
			const char *end;

			for (end = p + tag; *end; end++)
				if (strncmp(end, p, tag) == 0)
					break;
			p = *end ? end + tag : end;
		}
		else
			p++;
	}
	if (!shape.empty)
	{
		n++;
		if (runs_outside_transaction(&shape))
			*outside_transaction = true;
	}
	return n;
}
