/*
 * fuzz_form.c: libFuzzer target for the urlencoded form decoder
 * (form_fields_parse in daemon/formdata.c), as the web form and the kiosk use it
 * on a POST body: parse, look fields up, free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/formdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form_fields *f;
	int i;

	f = form_fields_parse((const char *)data, size);
	if (f == NULL)
		return 0;
	for (i = 0; i < f->n; i++) {
		if (f->keys[i] == NULL || f->values[i] == NULL)
			abort();
		(void)strlen(f->keys[i]);
		(void)strlen(f->values[i]);
	}
	(void)form_fields_get(f, "token");
	(void)form_fields_get(f, "lang");
	form_fields_free(f);
	return 0;
}
