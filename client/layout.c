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
 * A file given on its own follows the same rules as in its directory: its
 * tool is found from its name (migration.sql, up.sql, V<version>__) or its
 * annotations, and it is named, versioned and wrapped as that tool does.
 * Inside a migration directory only regular files and directories are
 * read: a symbolic link or a FIFO where a migration would be is an error.
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
#include "common/logging.h"

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

/* What a directory entry is, its symbolic link not followed */
typedef enum FileType
{
	FT_NONE,					/* nothing of that name */
	FT_FILE,					/* a regular file */
	FT_DIR,
	FT_LINK,					/* a symbolic link */
	FT_OTHER					/* a FIFO, socket or device */
} FileType;

/* A directory entry: its name, and what it is */
typedef struct Entry
{
	char	   *name;
	FileType	type;
} Entry;

static char *
join_path(const char *dir, const char *name)
{
	size_t		len = strlen(dir);

	if (len > 0 && dir[len - 1] == '/')
		return psprintf("%s%s", dir, name);
	return psprintf("%s/%s", dir, name);
}

/*
 * What is at path, not following a symbolic link; FT_NONE if nothing is,
 * fatal if it cannot be told
 */
static FileType
file_type(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return FT_NONE;
		fatal("could not stat file \"%s\": %m", path);
	}
	if (S_ISREG(st.st_mode))
		return FT_FILE;
	if (S_ISDIR(st.st_mode))
		return FT_DIR;
	if (S_ISLNK(st.st_mode))
		return FT_LINK;
	return FT_OTHER;
}

/*
 * Inside a migration directory, only regular files and directories are
 * read: a symbolic link (it may dangle, or lead out of the directory) or a
 * FIFO (reading it would wait for a writer) where a migration or its
 * configuration would be is an error, not a file skipped in silence
 */
static void
not_regular(const char *path, FileType type)
{
	pg_log_error("\"%s\" is not a regular file", path);
	pg_log_error_detail("It is %s; inside a migration directory only regular files and directories are read.",
						type == FT_LINK ? "a symbolic link" : "a FIFO, socket or device");
	pg_log_error_hint("Give the file it leads to as a PATH of its own, or put the migration itself there.");
	exit(EXIT_TROUBLE);
}

/* A file beside a migration that is read if it is there (a configuration) */
static bool
companion_exists(const char *path)
{
	FileType	type = file_type(path);

	if (type == FT_NONE)
		return false;
	if (type != FT_FILE)
		not_regular(path, type);
	return true;
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
		FileType	type;

		if (de->d_name[0] == '.')
			continue;
		full = join_path(dir, de->d_name);
		type = file_type(full);
		if (type == FT_NONE)
			fatal("could not stat file \"%s\": %m", full);
		pfree(full);
		if (*n == cap)
		{
			cap = cap ? cap * 2 : 32;
			entries = pg_realloc(entries, sizeof(Entry) * cap);
		}
		entries[*n].name = pg_strdup(de->d_name);
		entries[*n].type = type;
		(*n)++;
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

/* The line of text that p is on */
static int
line_of(const char *text, const char *p)
{
	int			line = 1;

	for (; text < p; text++)
		if (*text == '\n')
			line++;
	return line;
}

static Migration *
new_migration(MigrationList *list, const char *path, const char *name,
			  const char *version, Tool tool)
{
	Migration  *m;
	char	   *text = read_file(path);
	const char *p;

	if (text == NULL)
		fatal("could not open file \"%s\": %m", path);

	/* else the server would refuse the whole script, without saying where */
	for (p = text; *p;)
	{
		int			len = utf8_char_length(p);

		if (len < 0)
		{
			pg_log_error("file \"%s\" is not valid UTF-8", path);
			pg_log_error_detail("Line %d has a byte sequence that is not UTF-8.",
								line_of(text, p));
			pg_log_error_hint("Migrations are read as UTF-8, as the migration tools read them by default.");
			exit(EXIT_TROUBLE);
		}
		p += len;
	}

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

/* path without its last part: "a/b/up.sql" is "a/b", "up.sql" is "." */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return pg_strdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return pg_strdup("/");
	return pnstrdup(path, slash - path);
}

/* The last part of a path: "a/b/" is "b" */
static char *
base_of(const char *path)
{
	size_t		len = strlen(path);
	const char *start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	for (start = path + len; start > path && start[-1] != '/'; start--)
		;
	return pnstrdup(start, path + len - start);
}

/*
 * The name of the directory a file is in ("b" for "a/b/up.sql"), which
 * Prisma and Diesel name a migration by; its real name when the path says
 * "." or ".."
 */
static char *
parent_name(const char *path)
{
	char	   *dir = dir_of(path);
	char	   *name = base_of(dir);

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
	{
		char		real[MAXPGPATH];

		if (realpath(dir, real) == NULL)
			fatal("could not resolve directory \"%s\": %m", dir);
		name = base_of(real);
	}
	return name;
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

/* Diesel's version of "2024-01-01-000000_create": "20240101000000" */
static char *
diesel_version(const char *dirname)
{
	char	   *v = pnstrdup(dirname, strcspn(dirname, "_"));
	char	   *w = v;
	char	   *p;

	for (p = v; *p; p++)
		if (*p != '-')
			*w++ = *p;
	*w = '\0';
	return v;
}

/* What the text of a file says of its tool: goose, dbmate, or neither */
static Tool
tool_of_text(const char *text)
{
	if (strstr(text, "+goose Up") != NULL)
		return TOOL_GOOSE;
	if (strstr(text, "migrate:up") != NULL)
		return TOOL_DBMATE;
	return TOOL_AUTO;
}

/*
 * One migration file, whether found in a directory or given on its own:
 * named and versioned as its tool names and versions it (Prisma and Diesel
 * by the directory it is in), the part of it the tool runs, in the
 * transaction the tool runs it in
 */
static void
add_migration(MigrationList *list, const char *path, Tool tool, Shape shape)
{
	char	   *file = base_of(path);
	char	   *name = file;
	char	   *version = file;
	Migration  *m;

	switch (tool)
	{
		case TOOL_PRISMA:
			name = version = parent_name(path);
			break;
		case TOOL_DIESEL:
			name = parent_name(path);
			version = diesel_version(name);
			break;
		case TOOL_FLYWAY:
			version = flyway_version(file);
			if (version == NULL)
			{
				pg_log_error("file \"%s\" is not a Flyway versioned migration", path);
				pg_log_error_hint("Flyway runs files named V<version>__<description>.sql, in the order of their versions.");
				exit(EXIT_TROUBLE);
			}
			break;
		case TOOL_GOOSE:
		case TOOL_DBMATE:
			version = leading_digits(file);
			break;
		default:
			break;
	}

	m = new_migration(list, path, name, version, tool);
	switch (tool)
	{
		case TOOL_GOOSE:
		case TOOL_DBMATE:
			if (!up_section(m, tool))
				fatal("file \"%s\" has no %s section", path,
					  tool == TOOL_GOOSE ? "\"-- +goose Up\"" : "\"-- migrate:up\"");
			break;
		case TOOL_DIESEL:
			{
				char	   *meta = join_path(dir_of(path), "metadata.toml");

				if (companion_exists(meta) && says_false(meta, "run_in_transaction"))
					m->in_transaction = false;
				break;
			}
		case TOOL_FLYWAY:
			{
				char	   *conf = psprintf("%s.conf", path);

				if (companion_exists(conf) && says_false(conf, "executeInTransaction"))
					m->in_transaction = false;
				break;
			}
		default:
			break;
	}
	settle_shape(m, shape);
}

/*
 * The tool of a file given on its own: Prisma's and Diesel's by their
 * names, Flyway's by its versioned name, goose's and dbmate's by their
 * annotations, else plain
 */
static Tool
tool_of_file(const char *path)
{
	char	   *file = base_of(path);
	char	   *text;
	Tool		tool;

	if (strcmp(file, "migration.sql") == 0)
		return TOOL_PRISMA;
	if (strcmp(file, "up.sql") == 0)
		return TOOL_DIESEL;
	if (flyway_version(file) != NULL)
		return TOOL_FLYWAY;
	text = read_file(path);
	if (text == NULL)
		fatal("could not open file \"%s\": %m", path);
	tool = tool_of_text(text);
	pfree(text);
	return tool == TOOL_AUTO ? TOOL_PLAIN : tool;
}

typedef struct Candidate
{
	char	   *path;
	char	   *version;		/* to sort by */
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
		Tool		found = TOOL_AUTO;

		if (entries[i].type == FT_DIR)
		{
			char	   *sub = join_path(dir, entries[i].name);
			char	   *f = join_path(sub, "migration.sql");

			if (file_type(f) != FT_NONE)
				found = TOOL_PRISMA;
			pfree(f);
			f = join_path(sub, "up.sql");
			if (found == TOOL_AUTO && file_type(f) != FT_NONE)
				found = TOOL_DIESEL;
			pfree(f);
			pfree(sub);
		}
		else if (flyway_version(entries[i].name) != NULL)
			found = TOOL_FLYWAY;
		if (found != TOOL_AUTO)
			return found;
	}
	for (i = 0; i < n; i++)
	{
		char	   *text;
		Tool		tool;

		if (entries[i].type != FT_FILE || !ends_with(entries[i].name, ".sql"))
			continue;
		text = read_file(join_path(dir, entries[i].name));
		if (text == NULL)
			continue;
		tool = tool_of_text(text);
		pfree(text);
		if (tool != TOOL_AUTO)
			return tool;
	}
	return TOOL_PLAIN;
}

/*
 * The path of the migration file that an entry of a directory is for its
 * tool, or NULL if it is none; fatal if it would be one but is not a
 * regular file
 */
static char *
migration_of_entry(const char *dir, const Entry *e, Tool tool)
{
	char	   *sub = join_path(dir, e->name);
	bool		named;

	switch (tool)
	{
		case TOOL_PRISMA:
		case TOOL_DIESEL:
			{
				/* <dir>/<migration>/migration.sql or up.sql */
				char	   *f;
				FileType	type;

				if (e->type == FT_FILE)
					return NULL;	/* migration_lock.toml */
				if (e->type != FT_DIR)
					not_regular(sub, e->type);
				f = join_path(sub, tool == TOOL_PRISMA ? "migration.sql" : "up.sql");
				type = file_type(f);
				if (type == FT_NONE)
					return NULL;
				if (type != FT_FILE)
					not_regular(f, type);
				return f;
			}
		case TOOL_FLYWAY:
			named = flyway_version(e->name) != NULL;
			break;
		case TOOL_GOOSE:
		case TOOL_DBMATE:
			named = ends_with(e->name, ".sql") && isdigit((unsigned char) e->name[0]);
			break;
		default:
			named = ends_with(e->name, ".sql");
			break;
	}
	if (!named || e->type == FT_DIR)
		return NULL;
	if (e->type != FT_FILE)
		not_regular(sub, e->type);
	return sub;
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
		char	   *path = migration_of_entry(dir, &entries[i], tool);

		if (path == NULL)
			continue;
		c[nc].path = path;
		if (tool == TOOL_FLYWAY)
			c[nc].version = flyway_version(entries[i].name);
		else
			c[nc].version = leading_digits(entries[i].name);
		nc++;
	}
	/* the others in the order of their names, as listed */
	if (tool == TOOL_FLYWAY)
		qsort(c, nc, sizeof(Candidate), candidate_version_cmp);
	else if (tool == TOOL_GOOSE)
		qsort(c, nc, sizeof(Candidate), candidate_number_cmp);

	for (i = 0; i < nc; i++)
		add_migration(list, c[i].path, tool, shape);
	if (nc == 0)
		fatal("no %s migrations found in \"%s\"", tool_name(tool), dir);
}

/*
 * Add what PATH holds, in the order its tool runs it: a directory of
 * migrations, or one file (PATH itself may be a symbolic link to either)
 */
void
add_path(MigrationList *list, const char *path, Tool tool, Shape shape)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fatal("could not stat file \"%s\": %m", path);
	if (S_ISDIR(st.st_mode))
		add_dir(list, path, tool, shape);
	else
		add_migration(list, path,
					  tool == TOOL_AUTO ? tool_of_file(path) : tool, shape);
}
