/*
 * api_util_test.c -- the helpers api/ gives drivers (api_util.c,
 * api_tree.c and the walks of api_dict.c), with the semantics of
 * OpenSMTPD's extras glue: base64 against RFC 4648's test vectors and
 * bad input, strip, lowercase and its truncation, dict and tree walks
 * in key order, from a key, root, poproot and merge.
 */
#include <string.h>

#include "api_util.h"
#include "test.h"

/* util_test_base64 - RFC 4648 section 10 vectors, both ways, and junk */
static void
util_test_base64(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *const bad[] = {
		"Zg=", "Z", "Zm9v!", "Zg==Zg==", "=Zg=", "Zm9vY===",
	};
	unsigned char	dec[64];
	char		enc[64];
	size_t		i;
	int		n;

	for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		n = api_base64_encode((const unsigned char *)vec[i][0],
		    strlen(vec[i][0]), enc, sizeof enc);
		CHECK(n == (int)strlen(vec[i][1]) && strcmp(enc, vec[i][1]) == 0,
		    vec[i][1]);
		n = api_base64_decode(vec[i][1], dec, sizeof dec);
		CHECK(n == (int)strlen(vec[i][0]) &&
		    memcmp(dec, vec[i][0], (size_t)n) == 0, vec[i][0]);
	}
	CHECK(api_base64_decode(" Zm9v\nYmFy ", dec, sizeof dec) == 6,
	    "base64 decode skips white space");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(api_base64_decode(bad[i], dec, sizeof dec) == -1,
		    bad[i]);
	CHECK(api_base64_decode("Zm9vYmFy", dec, 5) == -1,
	    "base64 decode: 6 bytes do not fit in 5");
	CHECK(api_base64_encode((const unsigned char *)"foo", 3, enc, 4) == -1,
	    "base64 encode: no room for the NUL");
}

/* util_test_strings - strip and lowercase */
static void
util_test_strings(void)
{
	char	buf[32], low[4];

	strlcpy(buf, " \t a b \r\n", sizeof buf);
	CHECK(strcmp(api_strip(buf), "a b") == 0, "strip both ends");
	strlcpy(buf, "   ", sizeof buf);
	CHECK(strcmp(api_strip(buf), "") == 0, "strip: blanks only");
	CHECK(api_lowercase(low, "AbC", sizeof low) == 1 &&
	    strcmp(low, "abc") == 0, "lowercase fits");
	CHECK(api_lowercase(low, "AbCd", sizeof low) == 0,
	    "lowercase: truncation is 0");
}

/* util_test_dict - walks in key order, from a key, root, merge */
static void
util_test_dict(void)
{
	struct dict	 a, b;
	const char	*k, *got[8];
	void		*v, *it = NULL;
	int		 x = 1, n = 0;

	api_dict_init(&a);
	api_dict_init(&b);
	api_dict_set(&a, "m", &x, NULL);
	api_dict_set(&a, "c", &x, NULL);
	api_dict_set(&b, "x", &x, NULL);
	api_dict_set(&b, "a", &x, NULL);
	CHECK(api_dict_merge(&a, &b) == 0 && api_dict_count(&a) == 4 &&
	    api_dict_count(&b) == 0, "dict merge moves every entry");
	while (n < 8 && api_dict_walk(&a, &it, &k, &v))
		got[n++] = k;
	CHECK(n == 4 && strcmp(got[0], "a") == 0 && strcmp(got[1], "c") == 0 &&
	    strcmp(got[2], "m") == 0 && strcmp(got[3], "x") == 0,
	    "dict walk in key order");
	it = NULL;
	CHECK(api_dict_walkfrom(&a, &it, "d", &k, &v) == 1 &&
	    strcmp(k, "m") == 0, "dict walk from a missing key");
	api_dict_set(&b, "c", &x, NULL);
	CHECK(api_dict_merge(&a, &b) == -1 && api_dict_count(&b) == 1,
	    "dict merge refuses a key in both, moves nothing");
	CHECK(api_dict_root(&a, &k, &v) == 1 && strcmp(k, "a") == 0,
	    "dict root is the lowest key");
	n = 0;
	while (api_dict_poproot(&a, &v))
		n++;
	CHECK(n == 4 && api_dict_count(&a) == 0, "dict poproot empties");
	api_dict_clear(&a, NULL);
	api_dict_clear(&b, NULL);
}

/* util_test_tree - the id-keyed twin */
static void
util_test_tree(void)
{
	struct tree	 a, b;
	uint64_t	 id, ids[4];
	void		*v, *it = NULL;
	int		 x = 1, n = 0;

	api_tree_init(&a);
	api_tree_init(&b);
	api_tree_set(&a, 30, &x, NULL);
	api_tree_set(&a, 10, &x, NULL);
	api_tree_set(&b, 20, &x, NULL);
	CHECK(api_tree_merge(&a, &b) == 0 && api_tree_count(&a) == 3,
	    "tree merge");
	while (n < 4 && api_tree_iter(&a, &it, &id, &v))
		ids[n++] = id;
	CHECK(n == 3 && ids[0] == 10 && ids[1] == 20 && ids[2] == 30,
	    "tree walk in id order");
	it = NULL;
	CHECK(api_tree_iterfrom(&a, &it, 11, &id, &v) == 1 && id == 20,
	    "tree walk from a missing id");
	CHECK(api_tree_pop(&a, 20) == &x && !api_tree_check(&a, 20),
	    "tree pop");
	CHECK(api_tree_poproot(&a, &id, &v) == 1 && id == 10,
	    "tree poproot takes the lowest id");
	api_tree_clear(&a, NULL);
	api_tree_clear(&b, NULL);
}

int
main(void)
{
	util_test_base64();
	util_test_strings();
	util_test_dict();
	util_test_tree();
	return test_done();
}
