/*-------------------------------------------------------------------------
 *
 * versions.c
 *	  The order of migration versions: numbers written with any leading
 *	  zeros (goose), and Flyway's dotted versions.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/versions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "client.h"

/* Compare two strings of digits as numbers: "007" is "7" */
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

/*
 * Flyway's order: versions compared part by part, as numbers, a part
 * that one of them lacks being 0 (so "1" and "1.0" are the same version,
 * and "1.1" comes after both)
 */
int
version_cmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0')
	{
		size_t		la = strcspn(a, ".");
		size_t		lb = strcspn(b, ".");
		int			c = numeric_cmp(la ? a : "0", la ? la : 1,
									lb ? b : "0", lb ? lb : 1);

		if (c != 0)
			return c;
		a += la;
		b += lb;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}
