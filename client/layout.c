/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  Where each migration tool keeps its files, in which order it runs
 *	  them, which part of a file it runs and whether in a transaction.
 *
 *	  prisma   <dir>/<name>/migration.sql, by name; one transaction per
 *			   file, but a file of one statement is sent on its own
 *	  flyway   V<version>__<description>.sql, by version (1.1 < 2 < 10);
 *			   one transaction per file, none when <file>.conf says
 *			   executeInTransaction=false or the file holds a statement
 *			   that cannot run in one
 *	  diesel   <dir>/<version>_<name>/up.sql, by version; metadata.toml
 *			   run_in_transaction = false for none
 *	  goose    <number>_<name>.sql, by number; the -- +goose Up section;
 *			   -- +goose NO TRANSACTION for none
 *	  dbmate   <version>_<name>.sql, by name; the -- migrate:up section;
 *			   transaction:false on that line for none
 *	  plain    *.sql, by name, one transaction per file (Rails structure
 *			   SQL, Django's sqlmigrate output, psql -1 -f)
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/layout.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "client.h"
#include "pqexpbuffer.h"

static const char *const tool_names[] = {
	"auto", "prisma", "flyway", "diesel", "goose", "dbmate", "plain"
};

const char *
tool_name(Tool tool)
{
	return tool_names[tool];
}

/* TOOL_AUTO when name is none of them */
Tool
tool_lookup(const char *name)
{
	int			i;

	for (i = TOOL_PRISMA; i <= TOOL_PLAIN; i++)
		if (pg_strcasecmp(name, tool_names[i]) == 0)
			return (Tool) i;
	return TOOL_AUTO;
}

/* A directory entry: its name, and what it is */
typedef struct Entry
{
	char	   *name;
	bool		is_dir;
} Entry;

static char *
join_path(const char *dir, const char *name)
{
	size_t		len = strlen(dir);

	if (len > 0 && dir[len - 1] == '/')
		return psprintf("%s%s", dir, name);
	return psprintf("%s/%s", dir, name);
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A whole file; NULL if it does not exist, fatal if it cannot be read */
char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	PQExpBufferData buf;
	char		chunk[8192];
	size_t		got;

	if (f == NULL)
	{
		if (errno == ENOENT)
			return NULL;
		fatal("could not open file \"%s\": %m", path);
	}
	initPQExpBuffer(&buf);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		if (memchr(chunk, '\0', got) != NULL)
			fatal("file \"%s\" contains a zero byte: it is not SQL text", path);
		appendBinaryPQExpBuffer(&buf, chunk, got);
	}
	if (ferror(f))
		fatal("could not read file \"%s\": %m", path);
	fclose(f);
	if (PQExpBufferBroken(&buf))
		fatal("out of memory");
	return buf.data;
}

/* The entries of a directory, sorted by name (byte order, as ls -v does not) */
static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const Entry *) a)->name, ((const Entry *) b)->name);
}

static Entry *
list_dir(const char *dir, int *n)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	Entry	   *entries = NULL;
	int			cap = 0;

	*n = 0;
	if (d == NULL)
		fatal("could not open directory \"%s\": %m", dir);
	while ((errno = 0, de = readdir(d)) != NULL)
	{
		char	   *full;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		full = join_path(dir, de->d_name);
		if (stat(full, &st) != 0)
			continue;
		if (*n == cap)
		{
			cap = cap ? cap * 2 : 32;
			entries = pg_realloc(entries, sizeof(Entry) * cap);
		}
		entries[*n].name = pg_strdup(de->d_name);
		entries[*n].is_dir = S_ISDIR(st.st_mode);
		(*n)++;
		pfree(full);
	}
	if (errno != 0)
		fatal("could not read directory \"%s\": %m", dir);
	closedir(d);
	if (*n > 0)
		qsort(entries, *n, sizeof(Entry), entry_cmp);
	return entries;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		ls = strlen(s);
	size_t		lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * If line (up to its end) is a comment "-- <word>" (any spaces, any case),
 * where the rest of the line starts; else NULL
 */
static const char *
comment_word(const char *line, const char *word)
{
	const char *p = line;
	size_t		len = strlen(word);

	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] != '-' || p[1] != '-')
		return NULL;
	p += 2;
	while (*p == ' ' || *p == '\t')
		p++;
	if (pg_strncasecmp(p, word, len) != 0)
		return NULL;
	return p + len;
}

/* The rest of a line after skipping spaces equals word, case aside */
static bool
rest_is(const char *rest, const char *word)
{
	size_t		len = strlen(word);

	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (pg_strncasecmp(rest, word, len) != 0)
		return false;
	rest += len;
	while (*rest == ' ' || *rest == '\t' || *rest == '\r')
		rest++;
	return *rest == '\n' || *rest == '\0';
}

/* Does the rest of the line hold word (before its end)? */
static bool
line_has(const char *rest, const char *word)
{
	const char *eol = strchr(rest, '\n');
	size_t		len = strlen(word);
	const char *p;

	for (p = rest; *p && (eol == NULL || p < eol); p++)
		if (pg_strncasecmp(p, word, len) == 0)
			return true;
	return false;
}

/*
 * A migration file with an up section (goose, dbmate): keep the lines
 * between the up marker and the down marker, and the line they start on;
 * report what the marker lines say about the transaction.  False when the
 * file has no up marker.
 */
static bool
up_section(Migration *m, Tool tool)
{
	char	   *line = m->text;
	char	   *start = NULL;
	char	   *end = NULL;
	int			lineno = 1;

	for (;;)
	{
		const char *rest;

		if (tool == TOOL_GOOSE && (rest = comment_word(line, "+goose")) != NULL)
		{
			if (start == NULL && rest_is(rest, "Up"))
			{
				start = strchr(line, '\n');
				start = start ? start + 1 : line + strlen(line);
				m->first_line = lineno + 1;
			}
			else if (start != NULL && rest_is(rest, "Down"))
			{
				end = line;
				break;
			}
			else if (rest_is(rest, "NO TRANSACTION"))
				m->in_transaction = false;
		}
		else if (tool == TOOL_DBMATE)
		{
			if (start == NULL && (rest = comment_word(line, "migrate:up")) != NULL)
			{
				if (line_has(rest, "transaction:false"))
					m->in_transaction = false;
				start = strchr(line, '\n');
				start = start ? start + 1 : line + strlen(line);
				m->first_line = lineno + 1;
			}
			else if (start != NULL && comment_word(line, "migrate:down") != NULL)
			{
				end = line;
				break;
			}
		}
		line = strchr(line, '\n');
		if (line == NULL)
			break;
		line++;
		lineno++;
	}
	if (start == NULL)
		return false;
	if (end != NULL)
		*end = '\0';
	memmove(m->text, start, strlen(start) + 1);
	return true;
}

/* A configuration file has "key = false" on a line of its own */
static bool
says_false(const char *path, const char *key)
{
	char	   *text = read_file(path);
	const char *line;
	size_t		len = strlen(key);

	for (line = text; line != NULL && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
	{
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, len) != 0)
			continue;
		p += len;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		if (rest_is(p, "false"))
			return true;
	}
	return false;
}

static Migration *
new_migration(MigrationList *list, const char *path, const char *name,
			  const char *version, Tool tool)
{
	Migration  *m;
	char	   *text = read_file(path);

	if (text == NULL)
		fatal("could not open file \"%s\": %m", path);
	if (list->n == list->cap)
	{
		list->cap = list->cap ? list->cap * 2 : 16;
		list->items = pg_realloc(list->items, sizeof(Migration) * list->cap);
	}
	m = &list->items[list->n++];
	memset(m, 0, sizeof(Migration));
	m->path = pg_strdup(path);
	m->name = pg_strdup(name);
	m->version = pg_strdup(version);
	m->tool = tool;
	m->text = text;
	m->first_line = 1;
	m->in_transaction = true;
	return m;
}

/* The tool's shape, or the one the user asked for; statements counted */
static void
settle_shape(Migration *m, Shape shape)
{
	bool		outside;

	m->nstatements = count_statements(m->text, &outside);
	if (shape == SHAPE_FILE)
		m->in_transaction = true;
	else if (shape == SHAPE_STATEMENT)
		m->in_transaction = false;
	else if (m->tool == TOOL_PRISMA && m->nstatements <= 1)
		m->in_transaction = false;	/* one statement, no block */
	else if (m->tool == TOOL_FLYWAY && outside)
		m->in_transaction = false;	/* Flyway sees it and runs none */
}

/* One file, outside any layout: plain, or a goose or dbmate file */
static void
add_file(MigrationList *list, const char *path, const char *name, Tool tool,
		 Shape shape)
{
	Migration  *m;
	const char *version = name;

	m = new_migration(list, path, name, version, tool);
	if (tool == TOOL_AUTO)
	{
		if (strstr(m->text, "+goose Up") != NULL)
			tool = TOOL_GOOSE;
		else if (strstr(m->text, "migrate:up") != NULL)
			tool = TOOL_DBMATE;
		else
			tool = TOOL_PLAIN;
		m->tool = tool;
	}
	if ((tool == TOOL_GOOSE || tool == TOOL_DBMATE) && !up_section(m, tool))
		fatal("file \"%s\" has no %s section", path,
			  tool == TOOL_GOOSE ? "\"-- +goose Up\"" : "\"-- migrate:up\"");
	settle_shape(m, shape);
}

/* Leading digits of name, as a string; "" if none */
static char *
leading_digits(const char *name)
{
	size_t		n = strspn(name, "0123456789");

	return pnstrdup(name, n);
}

/*
 * Flyway's version of "V1_2__x.sql": "1.2"; NULL for a name that is not a
 * versioned migration
 */
static char *
flyway_version(const char *name)
{
	const char *sep = strstr(name, "__");
	char	   *v;
	char	   *p;

	if (name[0] != 'V' || sep == NULL || sep == name + 1 ||
		!ends_with(name, ".sql"))
		return NULL;
	v = pnstrdup(name + 1, sep - name - 1);
	for (p = v; *p; p++)
	{
		if (*p == '_')
			*p = '.';
		else if (!isdigit((unsigned char) *p) && *p != '.')
			return NULL;
	}
	return v;
}

/* Compare two strings of digits as numbers */
int
numeric_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	while (la > 1 && *a == '0')
		a++, la--;
	while (lb > 1 && *b == '0')
		b++, lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strncmp(a, b, la);
}

/* Flyway's order: versions compared part by part, as numbers */
int
version_cmp(const char *a, const char *b)
{
	for (;;)
	{
		size_t		la = strcspn(a, ".");
		size_t		lb = strcspn(b, ".");
		int			c = numeric_cmp(a, la, b, lb);

		if (c != 0)
			return c;
		a += la;
		b += lb;
		if (*a == '\0' || *b == '\0')
			return (*a != '\0') - (*b != '\0');
		a++;
		b++;
	}
}

typedef struct Candidate
{
	char	   *path;
	char	   *name;
	char	   *version;
	Tool		tool;
} Candidate;

static int
candidate_version_cmp(const void *a, const void *b)
{
	return version_cmp(((const Candidate *) a)->version,
					   ((const Candidate *) b)->version);
}

static int
candidate_number_cmp(const void *a, const void *b)
{
	const char *va = ((const Candidate *) a)->version;
	const char *vb = ((const Candidate *) b)->version;

	return numeric_cmp(va, strlen(va), vb, strlen(vb));
}

/* What the entries of a directory say about the tool that wrote them */
static Tool
detect_tool(const char *dir, Entry *entries, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		char	   *sub = join_path(dir, entries[i].name);
		char	   *f;

		Tool		found = TOOL_AUTO;

		if (entries[i].is_dir)
		{
			f = join_path(sub, "migration.sql");
			if (is_file(f))
				found = TOOL_PRISMA;
			pfree(f);
			f = join_path(sub, "up.sql");
			if (found == TOOL_AUTO && is_file(f))
				found = TOOL_DIESEL;
			pfree(f);
		}
		else if (flyway_version(entries[i].name) != NULL)
			found = TOOL_FLYWAY;
		pfree(sub);
		if (found != TOOL_AUTO)
			return found;
	}
	for (i = 0; i < n; i++)
	{
		char	   *text;
		Tool		tool = TOOL_AUTO;

		if (entries[i].is_dir || !ends_with(entries[i].name, ".sql"))
			continue;
		text = read_file(join_path(dir, entries[i].name));
		if (text == NULL)
			continue;
		if (strstr(text, "+goose Up") != NULL)
			tool = TOOL_GOOSE;
		else if (strstr(text, "migrate:up") != NULL)
			tool = TOOL_DBMATE;
		pfree(text);
		if (tool != TOOL_AUTO)
			return tool;
	}
	return TOOL_PLAIN;
}

/* The migrations of one directory, in the tool's order */
static void
add_dir(MigrationList *list, const char *dir, Tool tool, Shape shape)
{
	int			n;
	Entry	   *entries = list_dir(dir, &n);
	Candidate  *c = pg_malloc0(sizeof(Candidate) * (n + 1));
	int			nc = 0;
	int			i;

	if (tool == TOOL_AUTO)
		tool = detect_tool(dir, entries, n);
	for (i = 0; i < n; i++)
	{
		const char *name = entries[i].name;
		char	   *sub = join_path(dir, name);

		switch (tool)
		{
			case TOOL_PRISMA:
			case TOOL_DIESEL:
				{
					char	   *f = join_path(sub, tool == TOOL_PRISMA ?
											  "migration.sql" : "up.sql");

					if (!entries[i].is_dir || !is_file(f))
						continue;
					c[nc].path = f;
					c[nc].name = pg_strdup(name);
					if (tool == TOOL_PRISMA)
						c[nc].version = pg_strdup(name);
					else
					{
						/* "2024-01-01-000000_create" is version 20240101000000 */
						char	   *v = pnstrdup(name, strcspn(name, "_"));
						char	   *w = v;
						char	   *p;

						for (p = v; *p; p++)
							if (*p != '-')
								*w++ = *p;
						*w = '\0';
						c[nc].version = v;
					}
					break;
				}
			case TOOL_FLYWAY:
				if (entries[i].is_dir || (c[nc].version = flyway_version(name)) == NULL)
					continue;
				c[nc].path = sub;
				c[nc].name = pg_strdup(name);
				break;
			case TOOL_GOOSE:
			case TOOL_DBMATE:
				if (entries[i].is_dir || !ends_with(name, ".sql") ||
					!isdigit((unsigned char) name[0]))
					continue;
				c[nc].path = sub;
				c[nc].name = pg_strdup(name);
				c[nc].version = leading_digits(name);
				break;
			default:
				if (entries[i].is_dir || !ends_with(name, ".sql"))
					continue;
				c[nc].path = sub;
				c[nc].name = pg_strdup(name);
				c[nc].version = pg_strdup(name);
				break;
		}
		c[nc].tool = tool;
		nc++;
	}
	if (tool == TOOL_FLYWAY)
		qsort(c, nc, sizeof(Candidate), candidate_version_cmp);
	else if (tool == TOOL_GOOSE)
		qsort(c, nc, sizeof(Candidate), candidate_number_cmp);

	for (i = 0; i < nc; i++)
	{
		Migration  *m;

		if (tool == TOOL_GOOSE || tool == TOOL_DBMATE || tool == TOOL_PLAIN)
		{
			add_file(list, c[i].path, c[i].name, tool, shape);
			list->items[list->n - 1].version = c[i].version;
			continue;
		}
		m = new_migration(list, c[i].path, c[i].name, c[i].version, tool);
		if (tool == TOOL_DIESEL)
		{
			char	   *meta = join_path(dir, c[i].name);

			meta = join_path(meta, "metadata.toml");
			if (is_file(meta) && says_false(meta, "run_in_transaction"))
				m->in_transaction = false;
		}
		else if (tool == TOOL_FLYWAY)
		{
			char	   *conf = psprintf("%s.conf", c[i].path);

			if (is_file(conf) && says_false(conf, "executeInTransaction"))
				m->in_transaction = false;
		}
		settle_shape(m, shape);
	}
	if (nc == 0)
		fatal("no %s migrations found in \"%s\"", tool_name(tool), dir);
}

/*
 * Add what PATH holds, in the order its tool runs it: a directory of
 * migrations, or one file
 */
void
add_path(MigrationList *list, const char *path, Tool tool, Shape shape)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fatal("could not open \"%s\": %m", path);
	if (S_ISDIR(st.st_mode))
		add_dir(list, path, tool, shape);
	else
	{
		const char *slash = strrchr(path, '/');
		const char *name = slash ? slash + 1 : path;
		char	   *version = tool == TOOL_FLYWAY ? flyway_version(name) : NULL;

		add_file(list, path, name, tool, shape);
		if (version != NULL)
			list->items[list->n - 1].version = version;
	}
}
