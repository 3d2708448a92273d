"""Which retention offers a customer is likely to accept: a collaborative-filtering recommender.

Inputs
------
- ``history``: the campaign history (``churn.history`` format: customerID, campaign_id, date,
  offer_id, group, accepted, churned; ``churn.synth.generate_campaign_history`` writes the
  sample's, ``churn.history.load_history`` reads a file). Only **treatment rows with a known
  answer** (accepted Yes/No) teach acceptance: control customers were never asked (a frame
  without ``group``, the old offer-history layout, is read as treatment rows). When a
  customer was made the same offer several times only the latest answer (by date) counts.
- ``customers``: a canonical customer frame (``churn.schema``) holding the history's customers;
  their features drive the cold start.

Why one format: the old ``offer_history.csv`` (one row per past offer with a 1-5 rating) and the
campaign history described the same events twice, and a CRM records whether an offer was
accepted, not a satisfaction rating. The recommender now reads the campaign history only, so
campaign results appended to it (``python -m churn results``) train it too.

Model
-----
Two scikit-surprise algorithms are trained on the 0/1 answer as an explicit "rating" on a 0..1
scale: ``SVD`` (biased matrix factorisation) and ``KNNBaseline`` (item-based, Pearson-baseline
similarity; item-based because ten offers give a 10 × 10 similarity matrix where a user-based
one would be customers × customers). Their prediction (clipped to 0..1) is a raw acceptance
score.

Customers have few past offers (one to six), so a customer's own factors are noisy. Each
customer's score is therefore a blend of their own prediction and the average prediction of
their ``n_neighbors`` most similar customers with history (*feature neighbours*)::

    score(u, i) = w_u · own(u, i) + (1 - w_u) · mean over neighbours v of own(v, i)
    w_u = n_u / (n_u + shrinkage)          n_u = offers u answered in the training history

With the default ``shrinkage=3`` three past answers weigh as much as the neighbourhood.
Customers without history (every uploaded customer, unknown IDs) have ``n_u = 0``: pure
neighbour average — the cold start. Feature space: the schema features, numeric ones
standardised (mean 0, sd 1 on the fit frame; TotalCharges NaN = 0) and categorical ones one-hot
encoded; exact Euclidean distance (``churn.nearest``'s split search, which visits only the
customers whose categorical part can be near; a scan for rows it cannot take); a customer is
never their own neighbour. A customer with neither history nor known features gets the
population mean.

Evaluation
----------
``fit`` runs ``n_folds``-fold cross-validation over the (customer, offer) pairs (seeded): every
pair is held out once and predicted through the same path as ``predict``. Each algorithm is
compared with a most-popular-offer baseline (the offer's acceptance rate in the training folds,
the same ranking for everyone). Replay evaluation: only offers actually made can be judged, so
each method ranks all offers for the customer and a held-out offer counts when it is in the
customer's top 3:

- ``n_test``: held-out offers (every answered (customer, offer) pair once);
  ``n_accepted``: how many of them were accepted;
- ``n_top3``: held-out offers that the method put in the customer's top 3; ``n_hits``: those
  of them the customer accepted;
- ``precision_at_3`` = n_hits / n_top3: when the method recommends an offer (top 3), how often
  it was accepted;
- ``recall_at_3`` = n_hits / n_accepted: the share of all accepted offers that the method had in
  the top 3. A baseline that puts the three most popular offers in everyone's top 3 judges more
  offers (larger ``n_top3``) and can catch more accepted offers in count while being right less
  often; read the counts with the rates.
- ``brier``: mean squared error of the raw acceptance score against the 0/1 answer (lower is
  better; the baseline's score is the offer's acceptance rate).

``algorithm="auto"`` keeps the algorithm with the higher precision@3 (ties: lower Brier) and
refits it on the whole history.

Probability of acceptance
-------------------------
Raw scores map to P(accept) by Platt scaling: a logistic regression of ``accepted`` on the
score, fitted on the cross-validated (out-of-sample) predictions of the chosen algorithm, so it
is not fooled by the model's in-sample fit. It is monotone: it never changes a customer's ranking
of offers.

Speed: SVD scores come from the learned factors (``bu``, ``bi``, ``pu``, ``qi``) and
KNNBaseline's from its baselines and similarity matrix, both with numpy over all customers × offers
(the same formulas as surprise's ``estimate``, checked in the tests); predicting is a table
lookup plus one nearest-neighbour query.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from churn import nearest, schema
from churn.nearest import TIE_TOLERANCE, SplitIndex
from churn.schema import FEATURES, ID, NUMERIC_FEATURES, feature_frame, numeric_matrix, one_hot

from churn.history import HISTORY_COLUMNS

#: Columns the recommender reads from a campaign history.
USED_COLUMNS = [ID, "offer_id", "date", "group", "accepted"]
ALGORITHMS = ("auto", "svd", "knn")
RATING_SCALE = (0, 1)
TOP_K = 3
SVD_PARAMS = dict(n_factors=8, n_epochs=40, lr_all=0.01, reg_all=0.1)
KNN_PARAMS = dict(k=40, min_k=1, sim_options={"name": "pearson_baseline", "user_based": False},
                  bsl_options={"method": "als"})
_ANSWER = {"yes": 1, "no": 0, "1": 1, "0": 0, "true": 1, "false": 0}


# --- input checks ------------------------------------------------------------------------------
def check_history(history: pd.DataFrame) -> pd.DataFrame:
    """The answered offers of a campaign history, one row per (customer, offer): the latest
    answer by date. Columns: customerID, offer_id, date (datetime), accepted (int 0/1).

    Treatment rows with accepted Yes/No count; control rows and treatment rows with a blank
    answer are skipped. A frame without ``group`` (the old offer-history layout: customerID,
    offer_id, date, accepted 0/1, rating), or rows with a blank group (such rows appended to a
    campaign history), are read as treatment rows (the rating is ignored), so older exports
    still train it. Raises ValueError naming the column and an offending value when the
    frame is malformed, or when no answered offer is left.
    """
    if not isinstance(history, pd.DataFrame):
        raise ValueError(f"history must be a campaign history (DataFrame with columns "
                         f"{', '.join(HISTORY_COLUMNS)}), got {type(history).__name__}")
    if "group" not in history.columns:
        history = history.assign(group="treatment")
    missing = [c for c in USED_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {', '.join(missing)}; expected a campaign "
                         f"history with {', '.join(HISTORY_COLUMNS)}")
    h = history[USED_COLUMNS].copy()
    group = h["group"].fillna("").astype(str).str.strip().str.lower()
    group = group.mask(group == "", "treatment")  # rows in the old layout, appended
    bad = ~group.isin(["treatment", "control"])
    if bad.any():
        v = _plain(h.loc[bad, "group"].iloc[0])
        raise ValueError(f"history column group must be treatment or control, found {v!r} in "
                         f"{int(bad.sum())} row(s)")
    text = h["accepted"].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                             else str(_plain(v)).strip().lower())
    text = text.replace({"1.0": "1", "0.0": "0"})
    bad = ~text.isin(list(_ANSWER) + [""])
    if bad.any():
        v = _plain(h.loc[bad, "accepted"].iloc[0])
        raise ValueError(f"history column accepted must be Yes, No or blank, found {v!r} in "
                         f"{int(bad.sum())} row(s)")
    answered = (group == "treatment") & (text != "")
    if not answered.any():
        raise ValueError("history has no treatment rows with accepted Yes or No; the recommender "
                         "learns acceptance from offers that were made and answered")
    h = h[answered.to_numpy()].copy()
    h["accepted"] = text[answered].map(_ANSWER).astype(int).to_numpy()
    h[ID] = h[ID].astype(str)
    h["offer_id"] = h["offer_id"].astype(str)
    h["date"] = pd.to_datetime(h["date"], errors="coerce", format="%Y-%m-%d")
    h = h.drop(columns="group")
    h = h.sort_values("date", kind="stable", na_position="first")
    h = h.drop_duplicates([ID, "offer_id"], keep="last")
    return h.sort_index(kind="stable").reset_index(drop=True)


def _plain(v):
    """A numpy scalar as the plain Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _check_customers(customers: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(customers, pd.DataFrame):
        raise ValueError(f"customers must be a canonical customer frame (DataFrame), got "
                         f"{type(customers).__name__}")
    missing = [c for c in [ID] + FEATURES if c not in customers.columns]
    if missing:
        raise ValueError(f"customers lacks column(s) {', '.join(missing)}; pass a canonical "
                         f"customer frame (churn.schema)")
    return customers


# --- pieces ------------------------------------------------------------------------------------
class _Encoder:
    """Schema features → dense float matrix (standardised numeric + one-hot categorical).

    Numeric features are standardised with the mean and sd of the fit frame; categorical ones
    are one-hot coded with the schema's value sets (``schema.one_hot``), so one row encodes in
    microseconds and never depends on the other rows.
    """

    def fit(self, customers: pd.DataFrame) -> "_Encoder":
        num = feature_frame(customers)[NUMERIC_FEATURES].to_numpy(dtype=np.float64)
        self.mean_ = num.mean(axis=0) if len(num) else np.zeros(len(NUMERIC_FEATURES))
        sd = num.std(axis=0) if len(num) else np.ones(len(NUMERIC_FEATURES))
        self.scale_ = np.where(sd > 0, sd, 1.0)
        return self

    def transform(self, customers: pd.DataFrame) -> np.ndarray:
        X = feature_frame(customers)
        num = (numeric_matrix(X) - self.mean_) / self.scale_
        return np.ascontiguousarray(np.hstack([num, one_hot(X)]), dtype=np.float64)


#: Query rows from which the split search (`churn.nearest`) is used when an index is given: below
#: it the scan is faster (one customer: 0.25 instead of 1 ms; 200: 15 instead of 19 ms; 1,000:
#: 75 instead of 65 ms), with the same neighbours.
SPLIT_SEARCH_FROM = 512
#: Query rows from which scikit-learn's fused, multithreaded brute-force search finds the
#: candidates (about 5x faster than numpy for a large batch; slower for one customer).
SKLEARN_SEARCH_FROM = 2048


def _exact_nearest(ref: np.ndarray, X: np.ndarray, k: int) -> np.ndarray:
    """k nearest rows of ``ref`` by the exact squared distance Σ (x − r)², ties by lower index.

    Only the rows at or below each row's k-th smallest distance are sorted (every row tied
    with the k-th is among them), so the result is that of sorting all of ``ref`` by
    (distance, index) at a fraction of the cost."""
    out = np.empty((len(X), k), dtype=np.int64)
    if k == 0:
        return out
    diff = np.empty_like(ref, dtype=np.float64)
    for i, x in enumerate(X):
        np.subtract(ref, x, out=diff)                     # (r − x)² == (x − r)², bit for bit
        np.square(diff, out=diff)
        row = diff.sum(axis=1)
        kth = np.partition(row, k - 1)[k - 1]
        near = np.flatnonzero(row <= kth)                 # ascending index
        if len(near) < k:                                 # NaN distances: sort the whole row
            near = np.arange(len(row))
        out[i] = near[np.argsort(row[near], kind="stable")[:k]]
    return out


def _candidates(ref: np.ndarray, ref_sq: np.ndarray, X: np.ndarray, m: int,
                chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, squared distances), rows × m, of the m rows of ``ref`` nearest to each row of
    ``X`` by the expanded form |x|² − 2 x·r + |r|² (BLAS), in no particular order."""
    if len(X) >= SKLEARN_SEARCH_FROM:
        from sklearn.neighbors import NearestNeighbors

        dist, idx = NearestNeighbors(n_neighbors=m, algorithm="brute").fit(ref).kneighbors(X)
        return idx.astype(np.int64, copy=False), dist * dist
    idx = np.empty((len(X), m), dtype=np.int64)
    d2m = np.empty((len(X), m))
    for s in range(0, len(X), chunk):
        x = X[s:s + chunk]
        d2 = x @ ref.T                       # built in place: no chunk × len(ref) temporaries
        d2 *= -2.0
        d2 += (x * x).sum(axis=1)[:, None]
        d2 += ref_sq[None, :]
        part = np.argpartition(d2, m - 1, axis=1)[:, :m]
        idx[s:s + chunk] = part
        d2m[s:s + chunk] = np.take_along_axis(d2, part, axis=1)
    return idx, d2m


def _nearest(ref: np.ndarray, ref_sq: np.ndarray, X: np.ndarray, k: int,
             chunk: int = 4096, index: SplitIndex | None = None) -> np.ndarray:
    """Indices (rows × k) of the k rows of ``ref`` nearest to each row of ``X`` (Euclidean),
    nearest first, ties by lower index.

    Exact for the squared distance Σ (x − r)² with ties broken by the lower index, whatever
    the batch: the k + 1 best candidates come from a fast search (with ``index``, a
    `churn.nearest.SplitIndex` of ``ref``, and from `SPLIT_SEARCH_FROM` rows: the split search,
    which visits only the reference rows that can be near; else the expanded form, numpy in
    chunks or scikit-learn's brute-force search from `SKLEARN_SEARCH_FROM` rows); where two
    neighbouring candidates are within `TIE_TOLERANCE` (rounding could decide between them) the
    row is settled with exact distances: to its candidates when the tie is inside the k, to
    every row of ``ref`` that can be that near (all of them without ``index``) when it is at the
    k-th place. So one customer scored alone and in a batch of a million get the same
    neighbours, with or without the index."""
    n_ref = ref.shape[0]
    if k >= n_ref:
        return _exact_nearest(ref, X, n_ref)
    split = np.zeros(len(X), dtype=bool)
    if index is not None and index.ok_ and len(X) >= SPLIT_SEARCH_FROM:
        split = nearest.usable(X, index.n_num)
    idx = np.empty((len(X), k + 1), dtype=np.int64)
    d2 = np.empty((len(X), k + 1))
    bound = np.full(len(X), -1, dtype=np.int64)
    if split.any():
        s = np.flatnonzero(split)
        idx[s], d2[s], bound[s] = nearest.split_candidates(index, X[s], k + 1)
    if not split.all():
        s = np.flatnonzero(~split)
        idx[s], d2[s] = _candidates(ref, ref_sq, X[s], k + 1, chunk)
    order = np.lexsort((idx, d2), axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    d2 = np.take_along_axis(d2, order, axis=1)
    close = np.diff(d2, axis=1) <= TIE_TOLERANCE * (1.0 + np.abs(d2[:, 1:]))  # rows × k
    at_k = close[:, k - 1]
    inside = np.flatnonzero(close[:, :k - 1].any(axis=1) & ~at_k)
    for s in range(0, len(inside), chunk):     # the set is certain: exact order within it
        r = inside[s:s + chunk]
        c = idx[r]
        d = ((X[r][:, None, :] - ref[c]) ** 2).sum(axis=2)
        idx[r] = np.take_along_axis(c, np.lexsort((c, d), axis=1), axis=1)
    out = np.ascontiguousarray(idx[:, :k])
    tied = np.flatnonzero(at_k)
    settle = tied[split[tied]]                 # only rows with lb <= the bound can be that near
    for s in range(0, len(settle), chunk):
        rows = settle[s:s + chunk]
        levels = index.levels(X[rows, index.n_num:])
        for i, lv in zip(rows, levels):
            near = np.flatnonzero(lv[index.ref_pattern_] <= bound[i])
            out[i] = near[_exact_nearest(ref[near], X[i:i + 1], k)[0]]
    tied = tied[~split[tied]]
    if len(tied):
        out[tied] = _exact_nearest(ref, X[tied], k)
    return out


class _Engine:
    """A surprise algorithm trained on (customerID, offer_id, accepted 0/1) pairs, and its table.

    ``users``: raw customer ids (row order of ``table``); ``table``: users × offers predicted
    scores, clipped to 0..1 exactly as ``algo.predict(...).est``; ``counts``: answers per user.
    """

    def __init__(self, name: str, seed: int):
        self.name = name
        self.seed = seed

    def fit(self, pairs: pd.DataFrame, offer_ids: list[str]) -> "_Engine":
        from surprise import SVD, Dataset, KNNBaseline, Reader

        data = Dataset.load_from_df(pairs[[ID, "offer_id", "accepted"]],
                                    Reader(rating_scale=RATING_SCALE))
        ts = data.build_full_trainset()
        if self.name == "svd":
            algo = SVD(random_state=self.seed, **SVD_PARAMS)
        else:
            algo = KNNBaseline(verbose=False, **KNN_PARAMS)
        try:
            algo.fit(ts)
        except ZeroDivisionError:  # surprise's pearson_baseline on answers that never vary
            raise ValueError("KNNBaseline cannot compare the offers: the answers to some offers "
                             "do not vary; fit with algorithm='svd' or give more history") from None
        self.algo = algo
        self.trainset = ts
        self.users = pd.Index([ts.to_raw_uid(u) for u in range(ts.n_users)])
        self.counts = np.array([len(ts.ur[u]) for u in range(ts.n_users)], dtype=float)
        self.item_cols = []  # (column in offer_ids, inner item id) for offers with history
        for j, oid in enumerate(offer_ids):
            try:
                self.item_cols.append((j, ts.to_inner_iid(oid)))
            except ValueError:  # offer never made: global mean + customer bias
                pass
        raw = self._svd_table(len(offer_ids)) if self.name == "svd" else \
            self._knn_table(len(offer_ids))
        self.table = np.clip(raw, *RATING_SCALE)
        return self

    def _svd_table(self, n_offers: int) -> np.ndarray:
        """SVD.estimate for every (user, offer): mu + bu + bi + qi·pu."""
        a, ts = self.algo, self.trainset
        est = np.full((ts.n_users, n_offers), ts.global_mean) + a.bu[:, None]
        for j, i in self.item_cols:
            est[:, j] += a.bi[i] + a.pu @ a.qi[i]
        return est

    def _knn_table(self, n_offers: int) -> np.ndarray:
        """KNNBaseline.estimate (item-based) for every (user, offer), vectorised:
        b_ui + Σ_j sim(i, j)·(r_uj - b_uj) / Σ_j sim(i, j) over the offers j the user rated with
        sim > 0 (k >= number of offers, so no neighbour is cut)."""
        a, ts = self.algo, self.trainset
        mu = ts.global_mean
        n_u, n_i = ts.n_users, ts.n_items
        if a.k < n_i:  # not vectorised: per pair (never the case with a handful of offers)
            est = np.full((n_u, n_offers), mu) + a.bu[:, None]
            for u, raw in enumerate(self.users):
                for j, i in self.item_cols:
                    est[u, j] = a.predict(raw, ts.to_raw_iid(i), clip=False).est
            return est
        resid = np.zeros((n_u, n_i))
        rated = np.zeros((n_u, n_i))
        for u in range(n_u):
            for i, r in ts.ur[u]:
                resid[u, i] = r - (mu + a.bu[u] + a.bi[i])
                rated[u, i] = 1.0
        sim = np.where(a.sim > 0, a.sim, 0.0)  # items × items
        num = resid @ sim.T  # [u, i] = Σ_j sim(i, j)·resid(u, j)
        den = rated @ sim.T
        count = (rated[:, None, :] * (sim > 0)[None, :, :]).sum(axis=2)  # actual_k
        adj = np.where((den > 0) & (count >= a.min_k), num / np.where(den > 0, den, 1.0), 0.0)
        est = np.full((n_u, n_offers), mu) + a.bu[:, None]
        for j, i in self.item_cols:
            est[:, j] += a.bi[i] + adj[:, i]
        return est


class _Neighbours:
    """Nearest customers with history in feature space, and the engine rows they map to."""

    def __init__(self, encoder: _Encoder, engine: _Engine, feats: pd.DataFrame, k: int):
        have = engine.users[engine.users.isin(feats.index)]
        self.ids = pd.Index(have)
        self.rows = engine.users.get_indexer(have)
        self.k = min(k, len(have))  # 0: no customer with history has known features
        self.ref = encoder.transform(feats.loc[have]) if self.k else np.zeros((0, 1))
        self.ref_sq = (self.ref * self.ref).sum(axis=1)
        self.encoder = encoder
        self.engine = engine

    def _index(self) -> SplitIndex:
        """The reference rows prepared for the split search (built on first use, so engines
        pickled before it existed work too)."""
        index = self.__dict__.get("index_")
        if index is None:
            index = self.index_ = SplitIndex(len(NUMERIC_FEATURES)).fit(self.ref)
        return index

    def average(self, frame: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
        """Mean engine row of each customer's k nearest other customers (rows of ``frame``)."""
        n_off = self.engine.table.shape[1]
        if len(frame) == 0:
            return np.zeros((0, n_off))
        X = self.encoder.transform(frame)
        self_pos = self.ids.get_indexer(pd.Index(np.asarray(ids, dtype=str)))
        k_query = self.k + 1 if (self_pos >= 0).any() and self.k < len(self.ids) else self.k
        index = self._index() if len(X) >= SPLIT_SEARCH_FROM else None  # one customer: none
        idx = _nearest(self.ref, self.ref_sq, X, k_query, index=index)
        if k_query > self.k:  # drop the customer themself, else the farthest neighbour
            keep = idx != self_pos[:, None]
            keep[keep.all(axis=1), -1] = False
            if (keep.sum(axis=1) != self.k).any():  # defensive: should not happen
                keep = np.zeros_like(keep)
                keep[:, :self.k] = True
            idx = idx[keep].reshape(len(idx), self.k)
        table = self.engine.table[self.rows]  # neighbour-index order
        out = np.zeros((len(idx), n_off))
        for c in range(idx.shape[1]):  # a running sum: no (rows × k × offers) array
            out += table[idx[:, c]]
        return out / idx.shape[1]


def _blend(engine: _Engine, neigh: _Neighbours, frame: pd.DataFrame,
           shrinkage: float) -> np.ndarray:
    """Raw acceptance scores for the customers of ``frame`` (rows × offers), see module
    docstring.

    ``frame`` rows need ``customerID`` and the schema features, or only ``customerID`` with a
    ``_has_features`` False column for customers whose features are unknown.
    """
    ids = schema.id_texts(frame)
    own = engine.users.get_indexer(pd.Index(ids))
    out = np.tile(engine.table.mean(axis=0), (len(ids), 1))
    has_own = own >= 0
    out[has_own] = engine.table[own[has_own]]
    has_feat = frame["_has_features"].to_numpy(dtype=bool) if "_has_features" in frame \
        else np.ones(len(ids), dtype=bool)
    if has_feat.any() and neigh.k > 0:
        pos = np.nonzero(has_feat)[0]
        nb = neigh.average(frame if len(pos) == len(frame) else frame.iloc[pos], ids[pos])
        n = np.where(has_own[pos], engine.counts[np.maximum(own[pos], 0)], 0.0)
        w = (n / (n + shrinkage))[:, None]
        out[pos] = w * out[pos] + (1.0 - w) * nb
    return out


# --- the recommender ---------------------------------------------------------------------------
class OfferRecommender:
    """P(accept) of each offer for each customer, learned from the offer history.

    Parameters
    ----------
    algorithm: "auto" (keep the better of SVD and KNNBaseline by cross-validation), "svd" or
        "knn" (KNNBaseline).
    seed: seeds the folds and SVD's initialisation; same seed and data → same model.
    n_neighbors: similar customers with history averaged for the neighbour part (cold start).
    shrinkage: past answers at which a customer's own prediction weighs as much as the
        neighbours' (>= 0; 0 = own prediction only when the customer has history).
    n_folds: cross-validation folds for the evaluation and the calibration (>= 2).

    Learned attributes: ``algorithm_`` ("svd" or "knn"), ``evaluation_`` (``{"svd": {...},
    "knn": {...}, "popularity": {...}, "chosen": ..., "target": "accepted"}``, each with
    ``precision_at_3``, ``recall_at_3``, ``brier``, ``n_test``, ``n_accepted``, ``n_top3``,
    ``n_hits``; see the module docstring), ``offer_ids_``, ``calibration_`` (intercept, slope of
    the logistic on the raw score), ``n_customers_`` (customers with
    history), ``n_neighbors_`` (neighbours actually used).

    See the module docstring for the method.
    """

    def __init__(self, algorithm: str = "auto", seed: int = 0, n_neighbors: int = 25,
                 shrinkage: float = 3.0, n_folds: int = 5):
        self.algorithm = algorithm
        self.seed = seed
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage
        self.n_folds = n_folds

    def _check_params(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got "
                             f"{self.algorithm!r}")
        for name, lo in (("n_neighbors", 1), ("n_folds", 2)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{name} must be a whole number >= {lo}, got {v!r}")
        if isinstance(self.shrinkage, bool) or not isinstance(self.shrinkage, (int, float)) \
                or not self.shrinkage >= 0:
            raise ValueError(f"shrinkage must be a number >= 0, got {self.shrinkage!r}")

    # --- fitting -------------------------------------------------------------------------------
    def fit(self, history: pd.DataFrame, customers: pd.DataFrame,
            offer_ids: list[str] | None = None) -> "OfferRecommender":
        """Cross-validate SVD and KNNBaseline against the popularity baseline, keep the better,
        calibrate scores to P(accept), and refit on the whole history.

        history: see module docstring. customers: canonical frame with the history's customers.
        offer_ids: the offers to predict (the columns of ``predict``), e.g. ``catalogue.ids``;
        default: the offers in the history, sorted. An offer without history gets the global
        mean answer plus the customer's bias.
        Raises ValueError for malformed inputs (message names the column and the value).
        """
        self._check_params()
        pairs = check_history(history)
        if pairs["accepted"].nunique() < 2:
            raise ValueError("every offer in the history has the same outcome (all accepted or "
                             "all refused); acceptance cannot be learned from this history")
        customers = _check_customers(customers)
        if offer_ids is None:
            offer_ids = sorted(pairs["offer_id"].unique())
        offer_ids = [str(o) for o in offer_ids]
        if not offer_ids or len(set(offer_ids)) != len(offer_ids):
            raise ValueError(f"offer_ids must be a non-empty list of distinct ids, got "
                             f"{offer_ids!r}")
        feats = customers.drop_duplicates(ID, keep="last")
        feats = feats.set_index(feats[ID].astype(str), drop=False)
        if not pairs[ID].isin(feats.index).any():
            raise ValueError("none of the history's customers is in customers; pass the customer "
                             "frame the history belongs to (matching customerID)")
        self.offer_ids_ = offer_ids
        self.encoder_ = _Encoder().fit(feats)
        # one frame per pair, for predicting held-out pairs through the production path
        pair_frame = feats.reindex(pairs[ID].to_numpy())
        pair_frame[ID] = pairs[ID].to_numpy()
        pair_frame["_has_features"] = pairs[ID].isin(feats.index).to_numpy()

        col = pd.Index(offer_ids).get_indexer(pairs["offer_id"])
        in_cat = col >= 0
        fold = np.random.default_rng(self.seed).integers(0, int(self.n_folds), len(pairs))
        names = ("svd", "knn")
        est = {a: np.full((len(pairs), len(offer_ids)), np.nan) for a in names + ("popularity",)}
        for f in range(int(self.n_folds)):
            test = (fold == f) & in_cat
            train = fold != f
            if not test.any() or not train.any():
                continue
            tr = pairs[train]
            for a in names:
                eng = _Engine(a, self.seed).fit(tr, offer_ids)
                neigh = _Neighbours(self.encoder_, eng, feats, int(self.n_neighbors))
                est[a][test] = _blend(eng, neigh, pair_frame[test], float(self.shrinkage))
            est["popularity"][test] = _popularity(tr, offer_ids)
        done = ~np.isnan(est["svd"][:, 0])
        if not done.any():
            raise ValueError(f"history has {len(pairs)} distinct (customer, offer) pair(s): too "
                             f"few to cross-validate; give more history")
        test_pairs, c = pairs[done], col[done]
        evaluation: dict = {}
        for a in names:
            evaluation[a] = _metrics(est[a][done], c, test_pairs)
        evaluation["popularity"] = _metrics(
            est["popularity"][done], c, test_pairs,
            score=_fold_rate(pairs, fold, done, offer_ids, c))
        candidates = names if self.algorithm == "auto" else (self.algorithm,)
        chosen = max(candidates, key=lambda a: (evaluation[a]["precision_at_3"],
                                                -evaluation[a]["brier"]))
        evaluation["chosen"] = chosen
        evaluation["target"] = "accepted"
        self.evaluation_ = evaluation
        self.algorithm_ = chosen

        y = test_pairs["accepted"].to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError("every offer in the history has the same outcome (all accepted or "
                             "all refused); acceptance cannot be learned from this history")
        x = est[chosen][done][np.arange(len(c)), c].reshape(-1, 1)
        lr = LogisticRegression(C=1e6).fit(x, y)
        self.calibration_ = (float(lr.intercept_[0]), float(lr.coef_[0, 0]))

        self.engine_ = _Engine(chosen, self.seed).fit(pairs, offer_ids)
        self.neighbours_ = _Neighbours(self.encoder_, self.engine_, feats, int(self.n_neighbors))
        self.n_neighbors_ = self.neighbours_.k
        self.n_customers_ = len(self.engine_.users)
        return self

    # --- prediction ----------------------------------------------------------------------------
    def predict_score(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Raw acceptance score (0..1, before calibration) per customer (rows, same index as
        ``customers``) × offer."""
        return pd.DataFrame(self._scores(customers), index=customers.index,
                            columns=self.offer_ids_)

    def _scores(self, customers: pd.DataFrame) -> np.ndarray:
        """`predict_score` as a matrix (no frame)."""
        self._check_fitted()
        customers = _check_customers(customers)
        return _blend(self.engine_, self.neighbours_, customers, float(self.shrinkage))

    def predict(self, customers: pd.DataFrame) -> pd.DataFrame:
        """P(accept) in 0..1 for each customer (rows, same index as ``customers``) × offer id
        (columns ``offer_ids_``).

        Customers with history blend their own learned preferences with their neighbours'; all
        others (new or unknown IDs) take their ``n_neighbors`` most similar customers with
        history. Never raises for a canonical frame; an empty frame gives an empty table.
        """
        # the scores' matrix straight into the calibration (one frame, not two)
        return pd.DataFrame(self._calibrate(self._scores(customers)), index=customers.index,
                            columns=self.offer_ids_)

    def _calibrate(self, est: np.ndarray) -> np.ndarray:
        a, b = self.calibration_
        return 1.0 / (1.0 + np.exp(-(a + b * est)))

    def _check_fitted(self) -> None:
        if not hasattr(self, "engine_"):
            raise ValueError("This OfferRecommender is not fitted yet; call fit(history, "
                             "customers) first")


def _popularity(train: pd.DataFrame, offer_ids: list[str]) -> np.ndarray:
    """Per-offer training acceptance rate (offers without history: -1, ranked last)."""
    return train.groupby("offer_id")["accepted"].mean().reindex(offer_ids).fillna(-1.0).to_numpy()


def _fold_rate(pairs, fold, done, offer_ids, col) -> np.ndarray:
    """The popularity baseline's score for each held-out pair: the offer's acceptance rate in
    the other folds (the overall rate when the offer has none there)."""
    out = np.empty(int(done.sum()))
    f_done = fold[done]
    for f in np.unique(f_done):
        tr = pairs[fold != f]
        m = tr.groupby("offer_id")["accepted"].mean().reindex(offer_ids)
        m = m.fillna(tr["accepted"].mean()).to_numpy()
        sel = f_done == f
        out[sel] = m[col[sel]]
    return out


def _metrics(est: np.ndarray, col: np.ndarray, test_pairs: pd.DataFrame,
             score: np.ndarray | None = None) -> dict:
    """Replay figures for held-out pairs (see the module docstring).

    est: pairs × offers scores (ranking); col: each pair's offer column; score: the 0..1 score
    of each pair for the Brier score (default: ``est`` at the pair's offer).
    """
    if score is None:
        score = est[np.arange(len(col)), col]
    rank = np.argsort(-est, axis=1, kind="stable")[:, :TOP_K]
    in_top = (rank == col[:, None]).any(axis=1)
    acc = test_pairs["accepted"].to_numpy()
    hits = int(acc[in_top].sum())
    n_acc = int(acc.sum())
    return {"precision_at_3": hits / int(in_top.sum()) if in_top.any() else 0.0,
            "recall_at_3": hits / n_acc if n_acc else 0.0,
            "brier": float(np.mean((score - acc) ** 2)),
            "n_test": int(len(col)), "n_accepted": n_acc,
            "n_top3": int(in_top.sum()), "n_hits": hits}
