// SPDX-License-Identifier: Apache-2.0
/* text: the terminal-safe copy of untrusted text (see text.h). */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/text.h"

const char *vigil_term_safe(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "-");
	size_t n = strlen((const char *)p), i = 0, o = 0, k;

	while (i < n) {
		k = p[i] < 0x80 ? 1 : vigil_utf8_len(p + i, n - i);
		/* A control: C0 and DEL (one byte), C1 (U+0080..U+009F: 0xc2 0x80..0x9f). */
		if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			k = 0;
		else if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			k = 0;
		if (k) {
			if (o + k >= len)
				break;
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		/* Every byte of what is refused, visibly: C1 as UTF-8 is "\xc2\x9b". */
		k = p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] < 0xa0 ? 2 : 1;
		if (o + 4 * k >= len)
			break;
		for (size_t b = 0; b < k; b++, o += 4)
			snprintf(buf + o, 5, "\\x%02x", p[i + b]);
		i += k;
	}
	buf[o] = '\0';
	return buf;
}
