/*-------------------------------------------------------------------------
 *
 * files.c
 *	  Reading a migration, a configuration or a sizes file whole, and
 *	  walking UTF-8 text.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/files.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "client.h"
#include "common/logging.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

/*
 * A whole file; NULL if it does not exist, fatal if it cannot be read.  A
 * UTF-8 byte order mark at its start is dropped, as Flyway drops it: it
 * is on the first line, so the lines keep their numbers.
 */
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
		{
			pg_log_error("file \"%s\" contains a zero byte", path);
			pg_log_error_detail("It is not a text file.");
			exit(EXIT_TROUBLE);
		}
		appendBinaryPQExpBuffer(&buf, chunk, got);
	}
	if (ferror(f))
		fatal("could not read file \"%s\": %m", path);
	fclose(f);
	if (PQExpBufferBroken(&buf))
		fatal("out of memory");
	if (strncmp(buf.data, "\xEF\xBB\xBF", 3) == 0)
		memmove(buf.data, buf.data + 3, buf.len - 3 + 1);
	return buf.data;
}

/*
 * The length in bytes of the UTF-8 character s starts with, or -1 when
 * its bytes are not one (a stray continuation byte, a sequence cut short
 * by the end of the string, an overlong or surrogate encoding)
 */
int
utf8_char_length(const char *s)
{
	const unsigned char *u = (const unsigned char *) s;
	int			len = pg_utf_mblen(u);
	int			i;

	if (len == 1)
		return u[0] < 0x80 ? 1 : -1;
	for (i = 1; i < len; i++)
		if (u[i] == '\0')
			return -1;
	return pg_utf8_islegal(u, len) ? len : -1;
}
