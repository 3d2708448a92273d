"""The checks: every schema rule applied to the coded columns read from a file (vectorised).

`_Checker.run` maps the header, rejects damaged rows, checks each column by its kind (customer
ID, choice, number) and then applies the cross-column rules of ``churn.validate.rules`` (one
module each, in their ``order``), then builds the report (`churn.validate.report._Reporting`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from churn import schema
from churn.schema import BY_NAME, COLUMNS, FILE_COLUMNS
from churn.validate.messages import (ID_PATTERN, MSG_BLANK_ROWS, MSG_CASE_SPACES, MSG_CONTROL,
                                     MSG_DUPLICATE_HEADER, MSG_EMPTY_FILE, MSG_EXTRA_COLUMNS,
                                     MSG_EXTRA_VALUES, MSG_HEADER_RENAMED, MSG_ID_DUPLICATE,
                                     MSG_ID_MISSING, MSG_ID_PATTERN, MSG_ID_TRIMMED,
                                     MSG_LINE_BREAK, MSG_MISSING_CHOICE, MSG_MISSING_COLUMN,
                                     MSG_MISSING_NUMBER, MSG_NO_ROWS, MSG_NO_SCHEMA_COLUMNS,
                                     MSG_NOT_NUMBER, MSG_NOT_WHOLE, MSG_NUMBER_FORMAT,
                                     MSG_OUT_OF_RANGE, MSG_RECODED, MSG_STRAY_QUOTE,
                                     MSG_TARGET_IGNORED, MSG_TARGET_REQUIRED, MSG_TOO_LONG,
                                     MSG_UNKNOWN_CHOICE,
                                     _allowed, _count, _expected_number, _join_rows, _num, _quote,
                                     _unit, _was_were)
from churn.validate.reading import _blank_code, _has_values, _Raw
from churn.validate.report import (MAX_EXAMPLES, Problem, ValidationReport, _Finding,
                                   _Reporting)
from churn.validate.rules import RULES

# The relation TotalCharges ≈ tenure × MonthlyCharges (see schema.total_charges_estimate).
_TOTAL, _TENURE, _MONTHLY = (BY_NAME[n].name for n in (schema.TOTAL, schema.TENURE, schema.MONTHLY))

# Spellings the IBM file uses for a kind, read silently (besides the schema's own values).
_FILE_SPELLINGS = {"target": {"No": 0, "Yes": 1}}
# Other codings of a yes/no answer, read with a warning.
_YES_WORDS = ("yes", "y", "true", "t", "1", "1.0")
_NO_WORDS = ("no", "n", "false", "f", "0", "0.0")


_CHOICE_TABLES: dict[tuple, tuple] = {}


def _choice_tables(col) -> tuple[dict, dict, dict, str]:
    """(exact, folded, words, allowed) of a choice column: its spellings read as they are, the
    same case- and space-folded, other codings (yes/no words), and the allowed values as the
    messages list them. Built once per column declaration (they depend on nothing else; a
    one-customer check built them 16 times a call)."""
    key = (col.name, col.kind, tuple(col.values))
    found = _CHOICE_TABLES.get(key)
    if found is None:
        exact = {str(v): v for v in col.values}
        if col.kind == "target":      # the IBM file writes Yes/No; 1/0 is read with a warning
            exact = {}
        exact.update(_FILE_SPELLINGS.get(col.kind, {}))
        folded = {k.casefold(): v for k, v in exact.items()}
        words: dict[str, object] = {}
        if col.kind in ("flag01", "target"):
            words = {**{w: 1 for w in _YES_WORDS}, **{w: 0 for w in _NO_WORDS}}
        elif "Yes" in col.values and "No" in col.values:
            words = {**{w: "Yes" for w in _YES_WORDS}, **{w: "No" for w in _NO_WORDS}}
        found = _CHOICE_TABLES[key] = (exact, folded, words, ", ".join(_allowed(col)))
    return found


class _Checker(_Reporting):
    """Applies every schema rule to the coded columns read from the file (vectorised).

    A column is (codes, uniques): each rule looks at the distinct texts once and maps the
    answer back to the rows through the codes, so a million rows cost a few array takes.
    """

    def __init__(self, raw: _Raw, require_target: bool, row_offset: int = 0,
                 seen_ids: dict[str, int] | None = None):
        self.raw = raw
        self.require_target = require_target
        self.row_offset = row_offset     # added to row numbers (pieces of a larger file)
        self.seen_ids = seen_ids         # IDs of earlier pieces -> their first row
        self.file_errors: list[Problem] = []
        self.file_warnings: list[Problem] = list(raw.notes)
        self.findings: list[_Finding] = []
        self.canon: dict[str, np.ndarray] = {}
        self.col_bad: dict[str, np.ndarray] = {}  # column -> rows where its value is an error
        self.total_blank = None
        self.target = None          # Churn when it is optional: decided once validity is known
        self.cats: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # category -> (codes, values)

    # -- driver --
    def run(self) -> ValidationReport:
        raw = self.raw
        blank_codes = [_blank_code(u) for u in raw.uniques]
        nonblank = np.zeros(raw.nrecords, bool)
        for c, b in zip(raw.codes, blank_codes):
            nonblank |= c != b
        if not nonblank.any():
            return ValidationReport(errors=[Problem(None, None, MSG_EMPTY_FILE)],
                                    fatal=MSG_EMPTY_FILE, source=raw.name)
        first = int(np.argmax(nonblank))
        header = [str(u[c[first]]) for c, u in zip(raw.codes, raw.uniques)]
        if raw.width is not None:
            header = header[:raw.width]
        while len(header) > 1 and header[-1] == "" and not _has_values(raw, len(header) - 1,
                                                                       first):
            header.pop()                  # a wider table only because of ragged rows
        keep = nonblank[first + 1:]
        rownums = np.arange(first + 2, first + 2 + len(keep)) + self.row_offset
        self._note_blank_rows(keep, rownums)
        sel = slice(first + 1, None)
        if keep.all():
            self.codes = [c[sel] for c in raw.codes]
        else:
            self.codes = [c[sel][keep] for c in raw.codes]
        self.uniques = raw.uniques
        self.blank_codes = blank_codes
        self.rownums = rownums[keep]
        self.n = len(self.rownums)
        self.header = header
        self.bad = np.zeros(self.n, bool)
        self.skip = np.zeros(self.n, bool)
        self.records = np.arange(first + 1, raw.nrecords)[keep]   # record of each data row

        self.mapping = self._map_header(header)
        if not self.mapping:
            examples = ", ".join(FILE_COLUMNS[:4])
            self.file_errors.append(Problem(None, None,
                                            MSG_NO_SCHEMA_COLUMNS.format(examples=examples)))
            return self._report(np.zeros(self.n, bool))
        if self.n == 0:
            self.file_errors.append(Problem(None, None, MSG_NO_ROWS))
            return self._report(np.zeros(0, bool))
        for col in COLUMNS:
            if col.name in self.mapping:
                continue
            if col.required:
                self.file_errors.append(Problem(None, col.name, MSG_MISSING_COLUMN))
            elif col.kind == "target" and self.require_target:
                self.file_errors.append(Problem(None, col.name, MSG_TARGET_REQUIRED))

        self._note_damaged_rows()
        self._check_row_lengths(len(header))
        for col in COLUMNS:
            if col.name in self.mapping:
                j = self.mapping[col.name]
                self._check_shape(col, self.codes[j], self.uniques[j])
        for col in COLUMNS:
            if col.name not in self.mapping:
                continue
            j = self.mapping[col.name]
            codes, uniques = self.codes[j], self.uniques[j]
            if col.kind == "id":
                self._check_id(col, codes, uniques)
            elif col.kind in ("category", "flag01", "target"):
                self._check_choice(col, codes, uniques)
            else:
                self._check_number(col, codes, uniques)
        for check in RULES:           # the cross-column rules (churn.validate.rules)
            check(self)
        valid = ~self.bad & ~self.skip
        if self.file_errors:
            valid[:] = False
        return self._report(valid)

    def _add(self, severity, column, template, what, mask_or_pos, fields=None, const=None):
        order = None
        if mask_or_pos.dtype == bool:
            pos = np.flatnonzero(mask_or_pos)
        else:
            pos = np.asarray(mask_or_pos, dtype=np.int64)
            order = np.argsort(pos, kind="stable")
            pos = pos[order]
        if len(pos) == 0:            # nothing found (the usual case): no fields to convert
            return
        fields = {k: np.asarray(v, dtype=object) for k, v in (fields or {}).items()}
        if order is not None:
            fields = {k: v[order] for k, v in fields.items()}
        self.findings.append(_Finding(severity, column, template, what, pos, fields, const or {}))
        if severity == "error":
            self.bad[pos] = True
            if column is not None:
                self.col_bad.setdefault(column, np.zeros(self.n, bool))[pos] = True

    def _usable(self, *columns: str) -> np.ndarray:
        """Rows whose values in `columns` were all read correctly (other columns may be bad)."""
        ok = ~self.skip
        for c in columns:
            if c in self.col_bad:
                ok = ok & ~self.col_bad[c]
        return ok

    # -- header and structure --
    def _note_blank_rows(self, keep: np.ndarray, rownums: np.ndarray) -> None:
        blank = ~keep
        if not blank.any() or not keep.any():
            return
        last = np.flatnonzero(keep)[-1]
        inner = np.flatnonzero(blank[:last])          # trailing blank lines are not worth a word
        if len(inner):
            rows = [int(r) for r in rownums[inner[:5]]]
            self.file_warnings.append(Problem(None, None, MSG_BLANK_ROWS.format(
                count=_count(len(inner), "empty row"), was_were=_was_were(len(inner)),
                rows=_join_rows(rows, len(inner)))))

    def _map_header(self, header: list[str]) -> dict[str, int]:
        """Schema column name -> field position; warnings for renamed, extra, repeated headers."""
        def key(s: str) -> str:
            return re.sub(r"[\s_]", "", s).casefold()

        by_key = {key(c.name): c.name for c in COLUMNS}
        mapping: dict[str, int] = {}
        seen: dict[str, list[int]] = {}
        extras: list[str] = []
        for i, h in enumerate(header):
            name = h.replace("\ufeff", "").strip()
            target = name if name in BY_NAME else by_key.get(key(name))
            if target is None:
                extras.append(f'"{name}"' if name else f"column {i + 1} (no name)")
                continue
            seen.setdefault(target, []).append(i)
            if target in mapping:
                continue
            mapping[target] = i
            if h != target:
                self.file_warnings.append(Problem(None, target, MSG_HEADER_RENAMED.format(
                    header=h, column=target)))
        for target, where in seen.items():
            if len(where) > 1:
                self.file_warnings.append(Problem(None, target, MSG_DUPLICATE_HEADER.format(
                    count=len(where), first=where[0] + 1)))
        if extras and mapping:
            n = len(extras)
            self.file_warnings.append(Problem(None, None, MSG_EXTRA_COLUMNS.format(
                count=_count(n, "column"), is_are="is" if n == 1 else "are",
                names=", ".join(extras))))
        return mapping

    def _check_row_lengths(self, width: int) -> None:
        """Rows with more (non-empty) values than the header: one error each, no other checks."""
        last = np.zeros(self.n, np.int64)
        for j in range(width, len(self.codes)):
            last[self.codes[j] != self.blank_codes[j]] = j + 1
        skip = last > 0
        if skip.any():
            self._add("error", None, MSG_EXTRA_VALUES,
                      "more values than the header has columns", skip,
                      {"count": last[skip]}, {"width": width})
            self.skip |= skip

    def _note_damaged_rows(self) -> None:
        """Rows the reader found damaged (stray quote, control bytes, extra values): one error
        each, and no other check (their values cannot be trusted)."""
        if not self.raw.flags:
            return
        pos = np.searchsorted(self.records, np.fromiter(self.raw.flags, np.int64))
        kinds = {"stray": (MSG_STRAY_QUOTE, "a quote mark that is never closed"),
                 "control": (MSG_CONTROL, "control characters"),
                 "span": (MSG_LINE_BREAK, "a value that runs over several lines"),
                 "extra": (MSG_EXTRA_VALUES, "more values than the header has columns")}
        found: dict[str, tuple[list, dict]] = {}
        for p, (rec, (kind, fields)) in zip(pos.tolist(), self.raw.flags.items()):
            if p >= self.n or self.records[p] != rec:
                continue                  # the header itself, or a line with no value at all
            where, vals = found.setdefault(kind, ([], {}))
            where.append(p)
            for k, v in fields.items():
                vals.setdefault(k, []).append(v)
        for kind, (where, vals) in found.items():
            template, what = kinds[kind]
            where = np.asarray(where, np.int64)
            self._add("error", None, template, what, where, vals,
                      {"width": len(self.header)} if kind == "extra" else None)
            self.skip[where] = True

    def _check_shape(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Values longer than the schema allows (`schema.max_length`) or spanning lines: one
        error each, and the row skips every other check (so no message quotes a huge value)."""
        live = ~self.skip
        length_u, broken_u = _lengths_and_breaks(uniques)
        limit = schema.max_length(col)
        long_rows = live & (length_u > limit)[codes]
        if long_rows.any():
            self._add("error", col.name, MSG_TOO_LONG, f"a value longer than {limit} characters",
                      long_rows, {"length": length_u[codes[long_rows]]}, {"limit": limit})
            self.skip |= long_rows
            live = ~self.skip
        broken = live & broken_u[codes]
        if broken.any():
            where = np.flatnonzero(broken)
            spans = self.raw.spans
            lines = [spans.get(int(self.records[p]), uniques[codes[p]].count("\n") + 1)
                     for p in where]
            self._add("error", col.name, MSG_LINE_BREAK, "a value that runs over several lines",
                      where, {"lines": lines})
            self.skip[where] = True

    # -- one column --
    def _check_id(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        arr = pa.array(uniques, type=pa.large_string())
        trimmed_arr = pc.utf8_trim_whitespace(arr)
        changed_u = pc.not_equal(trimmed_arr, arr).to_numpy(zero_copy_only=False)
        live = ~self.skip
        ids_u, id_codes = uniques, codes
        if changed_u.any():
            trimmed = live & changed_u[codes]

            def note(valid, trimmed=trimmed, name=col.name):
                n = int((trimmed & valid).sum())
                return n and Problem(None, name, MSG_ID_TRIMMED.format(
                    count=_count(n, "value"), was_were=_was_were(n)))

            self.file_warnings.append(note)
            ids_u = uniques.copy()
            ids_u[changed_u] = [u.strip() for u in uniques[changed_u]]
            remap, ids_u = pd.factorize(ids_u)       # " A" and "A" are the same customer
            ids_u = np.asarray(ids_u, dtype=object)
            id_codes = remap[codes]
            trimmed_arr = pa.array(ids_u, type=pa.large_string())
        missing_u = pc.equal(trimmed_arr, "").to_numpy(zero_copy_only=False)
        pattern_u = pc.match_substring_regex(trimmed_arr, f"^{ID_PATTERN}$").to_numpy(
            zero_copy_only=False)
        missing = live & missing_u[id_codes]
        self._add("error", col.name, MSG_ID_MISSING, "no customer ID", missing)
        odd = live & ~missing & ~pattern_u[id_codes]
        self._add("warning", col.name, MSG_ID_PATTERN,
                  "a customer ID that does not look like 7590-VHVEG", odd,
                  {"value": ids_u[id_codes[odd]]})
        self.canon[col.name] = ids_u[id_codes]
        self._check_duplicates(col, id_codes, ids_u, live & ~missing)

    def _check_duplicates(self, col, id_codes, ids_u, candidates) -> None:
        """Every repeat of a customer ID after its first row is an error naming that row.

        With ``seen_ids`` (pieces of one file) an ID first seen in an earlier piece counts as
        repeated here too, and the IDs this piece shows first are added to it.
        """
        pos = np.flatnonzero(candidates)
        seen = self.seen_ids
        old_pos = np.empty(0, np.int64)
        old_first = np.empty(0, np.int64)
        if seen:
            earlier_u = np.fromiter((u in seen for u in ids_u), bool, len(ids_u))
            earlier = earlier_u[id_codes[pos]]
            if earlier.any():
                old_pos = pos[earlier]
                old_first = np.array([seen[v] for v in ids_u[id_codes[old_pos]]], np.int64)
                pos = pos[~earlier]
        if seen is not None and len(pos):
            uniq, first_idx = np.unique(id_codes[pos], return_index=True)
            seen.update(zip(ids_u[uniq].tolist(), self.rownums[pos[first_idx]].tolist()))
        counts = np.bincount(id_codes[pos], minlength=len(ids_u))
        if (counts > 1).any():
            pos = pos[counts[id_codes[pos]] > 1]          # rows of repeated IDs, in file order
            ids = id_codes[pos]
            _, first_idx, inverse = np.unique(ids, return_index=True, return_inverse=True)
            first_pos = pos[first_idx][inverse]
            later = pos != first_pos
            new_pos, new_first = pos[later], self.rownums[first_pos[later]]
        else:
            new_pos, new_first = np.empty(0, np.int64), np.empty(0, np.int64)
        dup = np.concatenate([old_pos, new_pos]).astype(np.int64)
        if not len(dup):
            return
        self._add("error", col.name, MSG_ID_DUPLICATE,
                  "a customer ID that already appears in an earlier row", dup,
                  {"value": ids_u[id_codes[dup]],
                   "first": np.concatenate([old_first, new_first]).astype(np.int64)})

    def _check_choice(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Category, 0/1 flag or target: each distinct text is judged once."""
        exact, folded, words, allowed = _choice_tables(col)
        # status per distinct text: 0 exact, 1 case/spaces, 2 another coding, 3 missing, 4 unknown
        status = np.zeros(len(uniques), np.int8)
        canon = np.empty(len(uniques), dtype=object)
        for i, u in enumerate(uniques):
            if u in exact:
                canon[i] = exact[u]
                continue
            t = u.strip()
            f = t.casefold()
            if t == "":
                status[i] = 3
            elif f in folded:
                status[i], canon[i] = 1, folded[f]
            elif f in words:
                status[i], canon[i] = 2, words[f]
            else:
                status[i] = 4
        live = ~self.skip
        row_status = np.where(live, status[codes], 0)
        shown = canon
        if col.kind == "target":          # say "1" as "Yes", as the file would write it
            shown = np.array([{0: "No", 1: "Yes"}.get(v, v) for v in canon], dtype=object)
        for kind, template in ((1, MSG_CASE_SPACES), (2, MSG_RECODED)):
            hit = row_status == kind
            if hit.any():
                self._normalised(col.name, template, hit, codes, uniques, shown)
        if col.kind == "target" and not self.require_target:
            # decided in _report: kept only if every usable row has a value
            canon[status >= 3] = 0
            self.target = (col, row_status >= 3, codes, uniques, canon.astype(np.int64)[codes])
            return
        self._add("error", col.name, MSG_MISSING_CHOICE, "no value", row_status == 3, None,
                  {"allowed": allowed})
        unknown = row_status == 4
        self._add("error", col.name, MSG_UNKNOWN_CHOICE, f"a value that is not one of {allowed}",
                  unknown, {"value": uniques[codes[unknown]]}, {"allowed": allowed})
        if col.kind != "category":
            canon[status >= 3] = 0
            self.canon[col.name] = canon.astype(np.int64)[codes]
        else:                       # kept coded: comparisons and takes stay cheap
            self.cats[col.name] = (codes, canon)
            self.canon[col.name] = None

    def _normalised(self, column, template, hit, codes, uniques, canon) -> None:
        """One warning for a column and a kind of normalisation (counted over used rows)."""
        def note(valid):
            counts = np.bincount(codes[hit & valid], minlength=len(uniques))
            order = sorted(np.flatnonzero(counts), key=lambda i: (-counts[i], uniques[i]))
            ex = [f"{_quote(uniques[i])} as {_quote(canon[i])}" for i in order[:MAX_EXAMPLES]]
            examples = ", ".join(ex) + (", …" if len(order) > MAX_EXAMPLES else "")
            n = int(counts.sum())
            return n and Problem(None, column, template.format(
                count=_count(n, "value"), was_were=_was_were(n), examples=examples))

        self.file_warnings.append(note)

    def _resolve_target(self, valid: np.ndarray) -> None:
        """Churn when not required: kept if every used row has a value, else ignored (warning)."""
        if self.target is None:
            return
        col, unusable, codes, uniques, values = self.target
        where = np.flatnonzero(unusable & valid)
        if not len(where):
            self.canon[col.name] = values
            return
        ex = []
        for p in where[:MAX_EXAMPLES]:
            v = uniques[codes[p]]
            ex.append(f"row {self.rownums[p]}: " + (f'"{v}"' if v.strip() else "blank"))
        examples = ", ".join(ex) + (", …" if len(where) > MAX_EXAMPLES else "")
        self.file_warnings.append(Problem(None, col.name, MSG_TARGET_IGNORED.format(
            count=f"{len(where):,}", total=_count(int(valid.sum()), "row"),
            examples=examples)))

    def _check_number(self, col, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Integer or money column: parse, accept common number formats, check the range."""
        live = ~self.skip
        # the array itself, not a Series of it: the same parse without the Series' set-up
        values_u = np.asarray(pd.to_numeric(np.asarray(uniques, dtype=object), errors="coerce"),
                              dtype=float)
        values_u[~np.isfinite(values_u)] = np.nan    # "inf", "1e999": not numbers of anything
        status = np.zeros(len(uniques), np.int8)   # 0 number, 1 blank, 2 reformatted, 3 not one
        for i in np.flatnonzero(np.isnan(values_u)):
            u = uniques[i]
            if not u.strip():
                status[i] = 1
                continue
            v = _parse_number_text(u)
            if v is None or not np.isfinite(v):
                status[i] = 3
            else:
                values_u[i], status[i] = v, 2
        row_status = np.where(live, status[codes], 0)
        values = values_u[codes]
        fixed = row_status == 2
        if fixed.any():
            self._normalised(col.name, MSG_NUMBER_FORMAT, fixed, codes, uniques,
                             values_u.astype(object))
        expected = _expected_number(col)
        bad = row_status == 3
        self._add("error", col.name, MSG_NOT_NUMBER, f"a value that is not {expected}",
                  bad, {"value": uniques[codes[bad]]}, {"expected": expected})
        blank = row_status == 1
        if col.name == _TOTAL:                # a blank total has its own rules (rules/totals.py)
            self.total_blank = blank
        else:
            self._add("error", col.name, MSG_MISSING_NUMBER, "no value", blank, None,
                      {"expected": expected})
        unit = _unit(col)
        ok = live & ~np.isnan(values)
        if col.kind == "integer":
            frac = ok & (values != np.round(values))
            self._add("error", col.name, MSG_NOT_WHOLE,
                      f"a value that is not a whole number of {unit}",
                      frac, {"value": uniques[codes[frac]]}, {"unit": unit})
            ok &= ~frac
        out = np.zeros(self.n, bool)
        if col.minimum is not None:
            out |= ok & (values < col.minimum)
        if col.maximum is not None:
            out |= ok & (values > col.maximum)
        low = _num(col.minimum) if col.minimum is not None else "any"
        high = _num(col.maximum) if col.maximum is not None else "any"
        self._add("error", col.name, MSG_OUT_OF_RANGE, f"a value outside {low} to {high} {unit}",
                  out, {"value": uniques[codes[out]]}, {"low": low, "high": high, "unit": unit})
        values = np.where(out, np.nan, values)     # 1e308 never reaches any arithmetic
        if col.kind == "integer":
            values = np.where(np.isfinite(values), values, 0).astype(np.int64)
        self.canon[col.name] = values


#: Below this many distinct texts `_lengths_and_breaks` loops in Python (pyarrow's set-up costs
#: about 20 µs a call, which a one-customer request pays twice a column).
_SMALL_UNIQUES = 64


def _lengths_and_breaks(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(characters of each text (code points), whether it holds a line break) for a column's
    distinct texts."""
    if len(uniques) < _SMALL_UNIQUES:
        length = np.fromiter((len(u) for u in uniques), np.int64, len(uniques))
        broken = np.fromiter(("\r" in u or "\n" in u for u in uniques), bool, len(uniques))
        return length, broken
    text = pa.array(uniques, type=pa.large_string())
    return (pc.utf8_length(text).to_numpy(zero_copy_only=False),
            pc.match_substring_regex(text, "[\r\n]").to_numpy(zero_copy_only=False))


_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")


def _parse_number_text(text: str) -> float | None:
    """'$1,234.50' -> 1234.5, '29,85' -> 29.85; None when it is not a number written that way."""
    t = text.strip()
    if t.startswith("$"):
        t = t[1:].strip()
    elif t.startswith("-$"):
        t = "-" + t[2:].strip()
    if _THOUSANDS.fullmatch(t):
        return float(t.replace(",", ""))
    if _DECIMAL_COMMA.fullmatch(t):
        return float(t.replace(",", "."))
    if _PLAIN.fullmatch(t) and t != text.strip():
        return float(t)
    return None
