/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text: what vigil shows a person of text it did not write itself (a process name, a title
 * built from one, a journal read back, a config value). A terminal obeys C0 controls (ESC,
 * CR, BS), DEL and the C1 controls (U+0080..U+009F: CSI is U+009B, as the byte 0x9b on an
 * 8-bit terminal and as 0xc2 0x9b in UTF-8): any of them in a name could move the cursor,
 * rewrite a line already shown or forge a new one. The JSON outputs keep the exact bytes
 * (escaped by the JSON writer); every human renderer goes through vigil_term_safe().
 */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>

/*
 * A copy of s (NULL reads as "-") into buf (len > 0 bytes, always NUL-terminated) that a
 * terminal can only print: printable ASCII and valid UTF-8 outside the C1 range go through;
 * every byte of a C0 control, DEL, a C1 control or an invalid UTF-8 sequence is written as
 * the four visible characters \xNN. Text that does not fit is cut before a whole character
 * or escape, never inside one. Returns buf.
 */
const char *vigil_term_safe(const char *s, char *buf, size_t len);

#endif /* VIGIL_TEXT_H */
