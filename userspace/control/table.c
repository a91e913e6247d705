// SPDX-License-Identifier: Apache-2.0
/* table: the CLI's table printer (see table.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/table.h"
#include "core/text.h"

int vigil_table_init(struct vigil_table *t, const char *const *head, unsigned int ncols,
		     unsigned int right, size_t rows)
{
	t->cell = NULL;
	if (ncols > VIGIL_TABLE_MAX_COLS)
		return -EINVAL;
	t->ncols = ncols;
	t->head = head;
	t->right = right;
	t->rows = rows;
	t->cell = calloc(rows ? rows * ncols : 1, VIGIL_TABLE_CELL);
	return t->cell ? 0 : -ENOMEM;
}

char *vigil_table_cell(struct vigil_table *t, size_t row, unsigned int col)
{
	return t->cell[row * t->ncols + col];
}

void vigil_table_line(FILE *out, const size_t *width, unsigned int ncols, unsigned int right,
		      unsigned int gap, const char *const *text)
{
	char safe[4 * VIGIL_TABLE_CELL];

	for (unsigned int c = 0; c < ncols; c++) {
		int w = (int)width[c];
		/* A cell may hold a process name, a path, a journal's text: none reaches the
		 * terminal raw (a no-op on the cells vigil_table_print() made safe already). */
		const char *t = vigil_term_safe(text[c], safe, sizeof(safe));

		if (c)
			fprintf(out, "%*s", (int)gap, "");
		if (right & (1u << c))
			fprintf(out, "%*s", w, t);
		else if (c == ncols - 1) /* no trailing blanks */
			fputs(t, out);
		else
			fprintf(out, "%-*s", w, t);
	}
	fputc('\n', out);
}

void vigil_table_print(struct vigil_table *t, FILE *out)
{
	size_t width[VIGIL_TABLE_MAX_COLS];
	const char *text[VIGIL_TABLE_MAX_COLS];
	unsigned int c;
	size_t r;

	char safe[VIGIL_TABLE_CELL];

	/* The widths are those of what is printed: each cell made terminal-safe first. */
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->ncols; c++) {
			vigil_term_safe(vigil_table_cell(t, r, c), safe, sizeof(safe));
			memcpy(vigil_table_cell(t, r, c), safe, strlen(safe) + 1);
		}
	}
	for (c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->head[c]);
		for (r = 0; r < t->rows; r++)
			if (strlen(vigil_table_cell(t, r, c)) > width[c])
				width[c] = strlen(vigil_table_cell(t, r, c));
	}
	vigil_table_line(out, width, t->ncols, t->right, 2, t->head);
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->ncols; c++)
			text[c] = vigil_table_cell(t, r, c);
		vigil_table_line(out, width, t->ncols, t->right, 2, text);
	}
	vigil_table_free(t);
}

void vigil_table_free(struct vigil_table *t)
{
	free(t->cell);
	t->cell = NULL;
}
