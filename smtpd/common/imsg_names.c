/*
 * imsg_names.c -- names and routes of processes and messages, generated
 * from the lists in imsg.h.  Pure functions; used by every process.
 */
#include <stddef.h>
#include <string.h>

#include "imsg.h"

static const char *const proc_names[] = {
#define X(id, name) [id] = name,
	PROC_LIST(X)
#undef X
};

static const struct imsg_route {
	const char	*name;
	enum proc_id	 from;
	enum proc_id	 to;
} imsg_routes[] = {
	[IMSG_NONE] = { "IMSG_NONE", PROC__COUNT, PROC__COUNT },
#define X(name, stem, from, to, fields, check) \
	[name] = { #name, PROC_##from, PROC_##to },
	IMSG_LIST(X)
#undef X
};

const char *
proc_name(enum proc_id id)
{
	if ((unsigned int)id >= PROC__COUNT)
		return "unknown";
	return proc_names[id];
}

enum proc_id
proc_lookup(const char *name)
{
	unsigned int	i;

	for (i = 0; i < PROC__COUNT; i++)
		if (strcmp(proc_names[i], name) == 0)
			return (enum proc_id)i;
	return PROC__COUNT;
}

const char *
imsg_name(uint32_t type)
{
	if (type == IMSG_NONE || type >= IMSG__MAX)
		return "IMSG_UNKNOWN";
	return imsg_routes[type].name;
}

/* imsg_route_end_ok - does one end of a route admit this process? */
static int
imsg_route_end_ok(enum proc_id want, enum proc_id have)
{
	if (want == PROC_ANY)
		return have < PROC__COUNT && have != PROC_CLIENT;
	return want == have;
}

int
imsg_route_ok(uint32_t type, enum proc_id from, enum proc_id to)
{
	if (type == IMSG_NONE || type >= IMSG__MAX)
		return 0;
	return imsg_route_end_ok(imsg_routes[type].from, from) &&
	    imsg_route_end_ok(imsg_routes[type].to, to);
}
