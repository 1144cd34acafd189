"""Private compiled core of the Black kernels: special functions, normalised Black function, greeks, IV solver.

Everything numerical lives in this one module on purpose: numba's on-disk cache is invalidated per source file,
so kernels that call each other must be defined in the same file or an edit to a callee would leave stale
machine code in the callers' caches.  The public modules (:mod:`black76`, :mod:`black_scholes`,
:mod:`implied_vol`, :mod:`inverse`) only validate, broadcast and call the array loops defined here.  All
``njit`` functions use ``error_model="numpy"`` (division by zero gives inf/NaN, never an exception).

Special functions
-----------------
Scalar ``numba.njit`` functions (compiled on first use, cached on disk) that the kernels inline.  Accuracy,
measured against mpmath at 40 digits by ``tests/unit/pricing/test_black76.py``: ``erfcx`` within 5e-16
relative on ``[-26, 1e300]``, ``norm_cdf`` within a few ulp relative to the *double* argument over the whole
range where it is a normal number (down to ``z = -37``), with no cancellation in either tail.

``erfcx(x) = exp(x**2) * erfc(x)``
    For ``x >= 0`` a piecewise polynomial in ``y = 4 / (4 + x)``: ``[0, 1]`` is cut into 32 equal pieces and
    on each ``G(y) = (4 + x) * erfcx(x)`` is a degree-8 polynomial in the local coordinate ``u = 32 y - j``.
    ``G`` is smooth on the closed interval (``G(0) = 1/sqrt(pi)``), so one table covers every ``x >= 0``.
    The local coordinate is formed as ``(4 (32 - j) - j x) / (4 + x)``, which avoids rounding ``y`` first
    (one division per call: ``1/(4 + x)`` is reused).
    The coefficients are Chebyshev interpolants computed with mpmath by :func:`generate_erfcx_table`; the
    table below is its output (a unit test regenerates it and compares bit for bit).  For ``x < 0``,
    ``erfcx(x) = 2 exp(x**2) - erfcx(-x)``.
``norm_cdf(z) = Phi(z)``
    ``Phi(z) = erfcx(-z / sqrt 2) * exp(-z**2 / 2) / 2`` for ``z <= 0`` and ``1 - Phi(-z)`` above; the
    square ``z**2`` is formed exactly (Dekker's product) so ``exp`` sees the exact exponent.
``norm_ppf_from_log(lp)``
    ``Phi^{-1}(exp(lp))`` for ``lp <= log(1/2)`` (any depth of the lower tail, no underflow): the
    Abramowitz-Stegun 26.2.23 start (abs. error < 4.5e-4) polished by two Halley steps on
    ``log Phi(z) - lp``; relative accuracy about 1e-15.

References
----------
W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) (the scaled
function and its use for accurate tails).  T. J. Dekker, "A floating-point technique for extending the
available precision", Numer. Math. 18 (1971).  M. Abramowitz, I. A. Stegun, Handbook of Mathematical
Functions (1964), 26.2.23.

Normalised Black function
-------------------------
With ``x = ln(F/K)`` and total volatility ``s = sigma sqrt(T)`` the undiscounted Black call price is
``sqrt(F K) * b(x, s)`` with

    b(x, s) = e^{x/2} Phi(x/s + s/2) - e^{-x/2} Phi(x/s - s/2),

and every put and every in-the-money option reduces to an out-of-the-money call (``x <= 0``):
``b_put(x, s) = b(-x, s)`` and ``b(x, s) = 2 sinh(x/2) + b(-x, s)``.  For ``x <= 0`` the two terms cancel, badly
when the option is far out of the money or ``s`` is small, so :func:`otm_scaled` evaluates it in four regions
(``h = x/s``, ``t = s/2``, ``E = (h^2 + t^2)/2``; note ``b = e^{-E} (Y(h+t) - Y(h-t)) / sqrt(2 pi)`` with
the Mills-type ratio ``Y(z) = Phi(z)/phi(z) = sqrt(pi/2) erfcx(-z/sqrt 2)``):

* **C** (``h + t > 0.85``): the definition; ``Phi(h+t) >= 0.8`` and the subtracted term is at most a fifth of
  the first, so there is no cancellation.
* **A** (``h + t <= -10`` and ``t < 1``): the asymptotic series ``Y(z) ~ -sum_k (-1)^k (2k-1)!! z^{-2k-1}``
  applied to both arguments.  The difference of the two series is formed term by term without cancellation:
  ``(h-t)^{-n} - (h+t)^{-n} = 2t (sum_{j<n} rho^j) / ((h-t) (h+t)^n)`` with ``rho = (h+t)/(h-t)``.
* **B** (``t < 0.21``, or ``t < 0.3`` and ``h > -3``): Taylor series in ``t`` of
  ``Y(h+t) - Y(h-t) = 2 sum_k Y^{(2k+1)}(h) t^{2k+1}/(2k+1)!``.  From ``Y' = 1 + hY`` every odd derivative is
  ``Y^{(2k+1)} = p_k(h^2) a + q_k(h^2)`` with ``a = 1 + h Y(h)`` (:func:`one_minus_mills`, tabulated like
  ``erfcx`` so it keeps full relative accuracy as ``a -> 1/h^2``) and integer polynomials ``p_k, q_k`` (built
  exactly with fractions at import; ten terms).
* **D** (otherwise): ``b = e^{-E} (erfcx(-(h+t)/sqrt2) - erfcx(-(h-t)/sqrt2)) / 2``; here the relative
  cancellation is bounded (factor < 25).

The result is returned as ``(m, E)`` with ``b = m e^{-E}`` so that callers can take ``ln b`` without underflow
(used by the implied-volatility solver for prices far below ``1e-300``).  Accuracy against mpmath
(``tests/unit/pricing/test_black76.py``): a few 1e-16 relative near the money; far in the tail the exponent
``E`` (up to ~700) is itself rounded once, which costs up to ``E * 4e-16``: 1e-14 in B and D, 3e-13 in A.
:func:`black_parts` returns, from the same evaluations, the normal probabilities the greeks need.

Prices and greeks
-----------------
``price = max(theta D (F - K), 0) + D sqrt(F K) b(-|x|, s)`` with ``x`` from :func:`log_ratio` (``ln(F/K)``
without the rounding of ``F/K``).  Greeks use ``F phi(d1) = sqrt(F K) e^{-E} / sqrt(2 pi)`` and the tails
``N(+-d1,2)`` of :func:`black_parts`; see :mod:`cryptoderiv.pricing.black76` and ``black_scholes`` for the
formulas.  The implied-volatility solver is documented in :mod:`cryptoderiv.pricing.implied_vol`.

This is the region structure described by P. Jaeckel, "Let's Be Rational", Wilmott (2015), sections 3-4;
the expansions above are derived independently here and the code is original.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numba import njit, prange

# =========================================================================================================
# special functions
# =========================================================================================================

_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp split of a double into two 26-bit halves
ERFCX_PIECES = 32
ERFCX_DEGREE = 8

SQRT_PI = math.sqrt(math.pi)
INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def generate_erfcx_table(
    pieces: int = ERFCX_PIECES, degree: int = ERFCX_DEGREE, dps: int = 40, function: str = "erfcx"
) -> np.ndarray:
    """Recompute a coefficient table with mpmath (development tool; mpmath is a dev dependency).

    Row ``j`` holds the monomial coefficients, lowest order first, of the degree-``degree`` polynomial in
    ``u = pieces * y - j`` that interpolates ``G(y)`` at the ``degree + 1`` Chebyshev points of ``y`` in
    ``[j/pieces, (j+1)/pieces]``, evaluated at ``dps`` digits, with ``x = 4/y - 4`` and
    ``G(y) = (4 + x) erfcx(x)`` (``function="erfcx"``, table ``_ERFCX_TABLE``) or
    ``G(y) = (1 - sqrt(pi) x erfcx(x)) (4 + x)^2 / 16`` (``function="mills"``, table ``_MILLS_TABLE``).
    """
    import mpmath as mp  # dev-only dependency, imported on demand

    with mp.workdps(dps):

        def big_g(y: mp.mpf) -> mp.mpf:
            x = 4 / y - 4
            value = mp.erfc(x) * mp.exp(x * x)
            if function == "erfcx":
                return value * (4 + x)
            return (1 - mp.sqrt(mp.pi) * x * value) * (4 + x) ** 2 / 16

        rows = []
        for j in range(pieces):
            nodes = [(1 + mp.cos(mp.pi * (k + mp.mpf(1) / 2) / (degree + 1))) / 2 for k in range(degree + 1)]
            values = [big_g((mp.mpf(j) + u) / pieces) for u in nodes]
            vandermonde = mp.matrix([[u**p for p in range(degree + 1)] for u in nodes])
            coefficients = mp.lu_solve(vandermonde, mp.matrix(values))
            rows.append([float(coefficients[p]) for p in range(degree + 1)])
    return np.array(rows, dtype=np.float64)


# Output of generate_erfcx_table() (32 pieces, degree 8, 40 digits).
_ERFCX_TABLE = np.array(
    [
        [
            0.5641895835477563, 0.01763092448586738, 0.000533748690490244,
            1.56035403457778e-05, 4.387444899813857e-07, 1.1806018145803125e-08,
            3.0202182202369985e-10, 7.245748296038344e-12, 1.784681435694083e-13,
        ],
        [
            0.5823703111244138, 0.01874704836021477, 0.0005833145261343373,
            1.748288251880484e-05, 5.025710157736904e-07, 1.3780301156950373e-08,
            3.5780666183637724e-10, 8.66947433934136e-12, 2.1403652536574677e-13,
        ],
        [
            0.6017186736112888, 0.01996820745484732, 0.0006389219579491839,
            1.9638441144120078e-05, 5.771580519661566e-07, 1.612118286765421e-08,
            4.245659939583667e-10, 1.0377161422835828e-11, 2.561948053776157e-13,
        ],
        [
            0.6223460351796637, 0.021307358554385904, 0.0007014680351061355,
            2.2117154047836524e-05, 6.645136097177862e-07, 1.890084244661206e-08,
            5.044737668619973e-10, 1.2421526815026612e-11, 3.05843805144035e-13,
        ],
        [
            0.6443776628548569, 0.022779401761632827, 0.0007720034238550358,
            2.4974758266912206e-05, 7.670411134086183e-07, 2.2205660292537285e-08,
            6.000981175212738e-10, 1.4862537385459572e-11, 3.638560857572599e-13,
        ],
        [
            0.6679548326607099, 0.024401515784436046, 0.0008517613257126597,
            2.8277521850258878e-05, 8.876165713443214e-07, 2.613873383718392e-08,
            7.14451176368472e-10, 1.7767201819445104e-11, 4.309964941164298e-13,
        ],
        [
            0.6932373017806633, 0.026193556575892146, 0.0009421920799772224,
            3.210431048507672e-05, 1.0296790597044426e-06, 3.082268336697887e-08,
            8.510351362970627e-10, 2.1208729700962622e-11, 5.078127051674391e-13,
        ],
        [
            0.7204062161215126, 0.0281785317556919, 0.0010450045377541077,
            3.654904500301673e-05, 1.197335889527181e-06, 3.640271047032216e-08,
            1.0138793088459778e-09, 2.5264815706635714e-11, 5.944931523117188e-13,
        ],
        [
            0.7496675362383002, 0.030383165588205134, 0.0011622154706022992,
            4.1723610811869664e-05, 1.3954835517631792e-06, 4.304983483267943e-08,
            1.2075611320228598e-09, 3.0014785149446066e-11, 6.906932331728708e-13,
        ],
        [
            0.7812560806795728, 0.03283857200622239, 0.0012962084657644586,
            4.7761283785938764e-05, 1.6299450493408212e-06, 5.096418739819498e-08,
            1.4372022827607837e-09, 3.553534302813088e-11, 7.953359704940396e-13,
        ],
        [
            0.8154403048181152, 0.035581056268567265, 0.001449803955838966,
            5.4820738178592186e-05, 1.907623473984799e-06, 6.037817976520022e-08,
            1.7084294282489542e-09, 4.189471723973607e-11, 9.064002525637563e-13,
        ],
        [
            0.8525279555335843, 0.03865306933066653, 0.0016263422246268317,
            6.309069953422436e-05, 2.2366706214749514e-06, 7.155930322697993e-08,
            2.0272880674434695e-09, 4.91450912844729e-11, 1.0207177252900159e-12,
        ],
        [
            0.8928727680957905, 0.04210434287343469, 0.0018297814099394749,
            7.279529805226024e-05, 2.6266680306733125e-06, 8.481224055942192e-08,
            2.400097785897582e-09, 5.7313391037379445e-11, 1.1338071274404996e-12,
        ],
        [
            0.9368824016160331, 0.04599323713164682, 0.0020648126714812626,
            8.420016399849935e-05, 3.0888160762802153e-06, 1.0047990656576776e-07,
            2.83323851599943e-09, 6.639072241955104e-11, 1.2397806137002515e-12,
        ],
        [
            0.9850278437800115, 0.05038833810452719, 0.002336994786497535,
            9.7619285243208e-05, 3.63612468202065e-06, 1.1894297911146935e-07,
            3.332860443106642e-09, 7.632103636080103e-11, 1.331358429340775e-12,
        ],
        [
            1.0378545544344535, 0.05537034528893631, 0.0026529104530373425,
            0.00011342261676452265, 4.2835969419521054e-06, 1.4061745236863535e-07,
            3.904515243620486e-09, 8.698989250687133e-11, 1.400024447526489e-12,
        ],
        [
            1.095995661000491, 0.06103429556755512, 0.0030203464932236526,
            0.00013204439240972995, 5.048394594245775e-06, 1.6594975023007378e-07,
            4.552713331655317e-09, 9.821445763350243e-11, 1.4363445914072544e-12,
        ],
        [
            1.1601875664503882, 0.0674921730736317, 0.0034484999289418044,
            0.00015399204049852176, 5.949972093036603e-06, 1.9540899100399074e-07,
            5.280420327495429e-09, 1.0973605467694014e-10, 1.4304533139540122e-12,
        ],
        [
            1.2312883822661311, 0.07487595844845603, 0.0039482115237199555,
            0.00017985554805642636, 7.010164224101555e-06, 2.2947610170488063e-07,
            6.088515276740115e-09, 1.2121662184329363e-10, 1.3726918301272093e-12,
        ],
        [
            1.310299653637794, 0.0833411735680597, 0.004532227825963605,
            0.00021031705573005595, 8.253211086067629e-06, 2.686296430650461e-07,
            6.975242165255908e-09, 1.3224031066252303e-10, 1.2543587230284701e-12,
        ],
        [
            1.3983919010370134, 0.09307097916690672, 0.005215491996900513,
            0.00024616040000556853, 9.705704077895918e-06, 3.1332841926094337e-07,
            7.93569373526115e-09, 1.423211340760815e-10, 1.0685126914977358e-12,
        ],
        [
            1.4969345597124066, 0.1042808824380908, 0.006015462759643514,
            0.000288280255463291, 1.1396437516105111e-05, 3.639911961367569e-07,
            8.961371271093094e-09, 1.5091708872056756e-10, 8.107523832963314e-13,
        ],
        [
            1.6075309547074155, 0.11722410926094608, 0.006952459675617959,
            0.00033769047241714043, 1.3356152788727554e-05, 4.209741184185167e-07,
            1.0039864879870117e-08, 1.5745056853184606e-10, 4.798924464067933e-13,
        ],
        [
            1.7320590014410993, 0.13219769085636282, 0.00805003166865512,
            0.000395531159699961, 1.56171655612763e-05, 4.845466751894315e-07,
            1.1154695256717224e-08, 1.6133423286351037e-10, 7.845962352396385e-14,
        ],
        [
            1.8727183681541615, 0.14954930712653286, 0.00933534431851576,
            0.000463074033695955, 1.821287137658513e-05, 5.548672869920024e-07,
            1.2285349961753712e-08, 1.6200087672357115e-10, -3.870524008423059e-13,
        ],
        [
            2.0320848738185333, 0.16968491852960305, 0.010839579992159629,
            0.0005417255474287643, 2.1177130797504017e-05, 6.319597521499886e-07,
            1.340753539658847e-08, 1.5893535603223777e-10, -9.062076439691928e-13,
        ],
        [
            2.213172920543839, 0.19307720502866957, 0.012598343442047973,
            0.0006330273308390878, 2.4543541676399334e-05, 7.156918739977287e-07,
            1.4493651020204045e-08, 1.5170631292656502e-10, -1.4649422939805167e-12,
        ],
        [
            2.4195067702228386, 0.22027481454348916, 0.014652064152938852,
            0.0007386535169896847, 2.8344612762307365e-05, 8.05757582010885e-07,
            1.5513476324359942e-08, 1.3999536413410908e-10, -2.0461504785152878e-12,
        ],
        [
            2.655201468458026, 0.2519124046837515, 0.017046385541052887,
            0.0008604045986385955, 3.261085919887455e-05, 9.016637549164882e-07,
            1.6435045297617754e-08, 1.2362156663264618e-10, -2.630496795411925e-12,
        ],
        [
            2.9250541923604594, 0.2887214407719219, 0.019832530177785395,
            0.0010001975533352986, 3.736984605416685e-05, 1.0027227588307506e-06,
            1.722566909159384e-08, 1.0255933578486296e-10, -3.197390986598299e-12,
        ],
        [
            3.2346467507573458, 0.33154169083186014, 0.023067629590956214,
            0.001160052089043359, 4.264521044003656e-05, 1.108051443056298e-06,
            1.785305666175277e-08, 7.694851363039892e-11, -3.726047948138661e-12,
        ],
        [
            3.590459894457368, 0.38133333500704925, 0.026815006942593006,
            0.0013420729909043578, 4.845569569827468e-05, 1.2165770117608396e-06,
            1.828647619629162e-08, 4.709590506192278e-11, -4.196552668805758e-12,
        ],
    ],
    dtype=np.float64,
)

# Output of generate_erfcx_table(function="mills") (32 pieces, degree 8, 40 digits).
_MILLS_TABLE = np.array(
    [
        [
            0.03125, 0.0019531249999999976, 8.869171142584721e-05,
            3.457069396296256e-06, 1.2150849562903258e-07, 3.923550141843433e-09,
            1.171063427954783e-10, 3.2072923144128304e-12, 8.987278698855229e-14,
        ],
        [
            0.03329539933327142, 0.0021413860085818907, 9.983303255479425e-05,
            3.984798295068257e-06, 1.4300139557018118e-07, 4.698572453414026e-09,
            1.4211187238106397e-10, 3.9237939110835025e-12, 1.0991883309886331e-13,
        ],
        [
            0.035540751018816784, 0.0023536028480383737, 0.00011269463869361646,
            4.606775327426967e-06, 1.6877097237398535e-07, 5.639796777471937e-09,
            1.727019570630938e-10, 4.8002730859224505e-12, 1.3405462209851884e-13,
        ],
        [
            0.03801182986928164, 0.0025935168051673613, 0.0001275866835667475,
            5.341886740290791e-06, 1.9973789015704288e-07, 6.784319001290539e-09,
            2.101120837748901e-10, 5.869450463265521e-12, 1.6287840792681478e-13,
        ],
        [
            0.04073848198310961, 0.0028655500087390456, 0.00014488189381913662,
            6.2130982843818035e-06, 2.370280118639214e-07, 8.177368594439468e-09,
            2.558234765846686e-10, 7.168868438731099e-12, 1.9695848536359232e-13,
        ],
        [
            0.04375537245252193, 0.003174943676819498, 0.00016502912384292522,
            7.248362427188371e-06, 2.8201691987477383e-07, 9.87388262220474e-09,
            3.1159588414315546e-10, 8.74066719533203e-12, 2.367668230864756e-13,
        ],
        [
            0.04710288582698736, 0.0035279263815336326, 0.00018856991559204094,
            8.481720032685492e-06, 3.363827859967829e-07, 1.1940268064865976e-08,
            3.7949689255803287e-10, 1.0630831737408256e-11, 2.825870853252237e-13,
        ],
        [
            0.05082821255761009, 0.003931918958957956, 0.00021615869870039925,
            9.954631698966587e-06, 4.0216845994233504e-07, 1.4456319051203616e-08,
            4.61923340649065e-10, 1.2887703186080335e-11, 3.343953698491942e-13,
        ],
        [
            0.05498666194689185, 0.004395784071319808, 0.0002485873766028314,
            1.1717576991644672e-05, 4.818534047409138e-07, 1.7517224639975382e-08,
            5.616089275084183e-10, 1.5559533034074007e-11, 3.917157229822878e-13,
        ],
        [
            0.059643250919995686, 0.00493013003694659, 0.0002868151621052087,
            1.3831961555174487e-05, 5.784356894500729e-07, 2.1235562789894035e-08,
            6.816106213324716e-10, 1.8690874402397705e-11, 4.5345801846296937e-13,
        ],
        [
            0.06487462845260986, 0.005547680390521794, 0.00033200464590030823,
            1.63723717275095e-05, 6.955236101932658e-07, 2.574312791164587e-08,
            8.252652624795235e-10, 2.2317664266231637e-11, 5.17752814047155e-13,
        ],
        [
            0.07077140797559825, 0.006263722719542517, 0.0003855651961705459,
            1.942921286512061e-05, 8.374356143290775e-07, 3.119238550492997e-08,
            9.961071550401913e-10, 2.6460967556524845e-11, 5.818054381060789e-13,
        ],
        [
            0.07744099475532619, 0.0070966526213879595, 0.00044920488588556535,
            2.311176003576492e-05, 1.009306032527546e-06, 3.775729278524815e-08,
            1.1977378732069735e-09, 3.111953328208798e-11, 6.417982763037609e-13,
        ],
        [
            0.08501101231546, 0.00806863109325878, 0.0005249922126648982,
            2.7551636975946314e-05, 1.217192693731607e-06, 4.563317634011413e-08,
            1.4336413779435473e-09, 3.626154719271535e-11, 6.928740201773982e-13,
        ],
        [
            0.0936334515548255, 0.009206376227395136, 0.0006154288970324243,
            3.2906720297521484e-05, 1.4681808653635966e-06, 5.503532633968578e-08,
            1.706941146049435e-09, 4.181623146201002e-11, 7.292314431484878e-13,
        ],
        [
            0.1034896883652289, 0.010542112622640053, 0.0007235349990572068,
            3.936544025117131e-05, 1.7704762342665609e-06, 6.619596247033417e-08,
            2.0201014362831606e-09, 4.766619892899238e-11, 7.443575731092326e-13,
        ],
        [
            0.11479654016788605, 0.012114704286484273, 0.0008529474601946596,
            4.715141684369581e-05, 2.1334779850117433e-06, 7.935925990565185e-08,
            2.3745818108611114e-09, 5.3641664650462554e-11, 7.314056015051781e-13,
        ],
        [
            0.12781355859760848, 0.013970998794478022, 0.0010080329369159995,
            5.652833143724701e-05, 2.567821649793306e-06, 9.477420202216521e-08,
            2.770461973550987e-09, 5.951769510514518e-11, 6.837077785181901e-13,
        ],
        [
            0.14285178408695495, 0.01616741186509642, 0.0011940154290910915,
            6.780489070450548e-05, 3.085380534136628e-06, 1.1268515311983035e-07,
            3.206061904106097e-09, 6.501558990061753e-11, 5.95389788061747e-13,
        ],
        [
            0.1602842176092071, 0.018771782039537943, 0.001417118708866512,
            8.133969449935058e-05, 3.6992143996092915e-06, 1.3332021539972154e-07,
            3.6775889543643414e-09, 6.980922043329106e-11, 4.62031724535413e-13,
        ],
        [
            0.18055829433458612, 0.021865524557338985, 0.0016847229236797258,
            9.754577522894377e-05, 4.4234549059740806e-06, 1.5687763867996115e-07,
            4.1788477764829665e-09, 7.353670586483708e-11, 2.8130513845434793e-13,
        ],
        [
            0.20421067217604422, 0.02554611152829661, 0.0020055339900515484,
            0.00011689453773448427, 5.273119204058628e-06, 1.8351077058662643e-07,
            4.7010496294929604e-09, 7.581723555960979e-11, 5.3509261630288066e-14,
        ],
        [
            0.23188467363902188, 0.02992990188971883, 0.0023897635355878814,
            0.0001399187998502994, 6.263846045432474e-06, 2.1331224591435413e-07,
            5.232754130702789e-09, 7.627222446057914e-11, -2.1806559860329047e-13,
        ],
        [
            0.26435074033127853, 0.03515533923454263, 0.002849316220791097,
            0.0001672146188910672, 7.411552730945923e-06, 2.462982911292332e-07,
            5.759968837534691e-09, 7.454940509867885e-11, -5.270035919793618e-13,
        ],
        [
            0.30253027409051664, 0.04138652831262029, 0.0033979803270727735,
            0.00019944159182061098, 8.73201592804387e-06, 2.8239413983304564e-07,
            6.26642074701398e-09, 7.03480065701524e-11, -8.638892283070136e-13,
        ],
        [
            0.34752324506800303, 0.048817191860688426, 0.004051616588929067,
            0.00023732133914879482, 1.0240384510243332e-05, 3.214215989262068e-07,
            6.734000027690596e-09, 6.344291755325337e-11, -1.2166955724834774e-12,
        ],
        [
            0.40063994345910475, 0.057674998540395574, 0.004828339437657789,
            0.0002816339255465621, 1.1950637701846321e-05, 3.630897628272614e-07,
            7.1433615806518345e-09, 5.3705716391337975e-11, -1.571406850915241e-12,
        ],
        [
            0.46343723628566524, 0.0682262404155106, 0.005748684172378695,
            0.00033321203291442563, 1.3875006509566264e-05, 4.0698974379442727e-07,
            7.47465603660803e-09, 4.112067826561834e-11, -1.9128218901817028e-12,
        ],
        [
            0.5377596624165862, 0.08078082495424689, 0.00683575313743081,
            0.00039293278161587643, 1.602338027468679e-05, 4.525940793515506e-07,
            7.708350100779412e-09, 2.5794303842025543e-11, -2.2254666091146138e-12,
        ],
        [
            0.6257856569961527, 0.09569753247830864, 0.008115333809336938,
            0.0004617071886829857, 1.8402722837140727e-05, 4.992612107474662e-07,
            7.826087994434049e-09, 7.957494461473787e-12, -2.494535006235117e-12,
        ],
        [
            0.7300791402880802, 0.11338947585270791, 0.009615981813094985,
            0.0005404673527151803, 2.1016524023791106e-05, 5.462451230129277e-07,
            7.811541871309686e-09, -1.2039850438287454e-11, -2.706779038981315e-12,
        ],
        [
            0.8536466358725403, 0.13432968562207168, 0.011369062311113743,
            0.0006301515579011151, 2.3864311841907857e-05, 5.927099241994867e-07,
            7.651199727875663e-09, -3.3741396121317794e-11, -2.8512773643490375e-12,
        ],
    ],
    dtype=np.float64,
)


@njit(cache=True, inline="always", error_model="numpy")
def _two_square(a: float) -> tuple[float, float]:
    """``a*a`` as an unevaluated sum ``hi + lo`` that is exact (Dekker); needs no fused multiply-add."""
    hi = a * a
    p = _SPLITTER * a
    a_hi = p - (p - a)
    a_lo = a - a_hi
    lo = ((a_hi * a_hi - hi) + 2.0 * a_hi * a_lo) + a_lo * a_lo
    return hi, lo


@njit(cache=True, error_model="numpy")
def exp_neg_half_square(z: float) -> float:
    """``exp(-z*z/2)`` with the square formed exactly (relative error a few ulp for any ``z``)."""
    hi, lo = _two_square(z)
    return math.exp(-0.5 * hi) * (1.0 - 0.5 * lo)


@njit(cache=True, error_model="numpy")
def _erfcx_nonneg(x: float) -> float:
    """``erfcx`` for ``x >= 0`` (``+inf`` maps to 0)."""
    if x == math.inf:
        return 0.0
    rd = 1.0 / (4.0 + x)
    j = int(ERFCX_PIECES * 4.0 * rd)
    if j > ERFCX_PIECES - 1:
        j = ERFCX_PIECES - 1
    u = (4.0 * (ERFCX_PIECES - j) - j * x) * rd
    acc = _ERFCX_TABLE[j, ERFCX_DEGREE]
    for k in range(ERFCX_DEGREE - 1, -1, -1):
        acc = acc * u + _ERFCX_TABLE[j, k]
    return acc * rd


@njit(cache=True, error_model="numpy")
def erfcx(x: float) -> float:
    """Scaled complementary error function ``exp(x**2) erfc(x)`` (``+inf`` below ``x = -26.6``)."""
    if x >= 0.0:
        return _erfcx_nonneg(x)
    if x != x:
        return x
    if x < -26.6:
        return math.inf
    hi, lo = _two_square(x)
    return 2.0 * math.exp(hi) * (1.0 + lo) - _erfcx_nonneg(-x)


@njit(cache=True, error_model="numpy")
def one_minus_mills(x: float) -> float:
    """``1 - sqrt(pi) x erfcx(x)`` for ``x >= 0`` without cancellation (``~ 1/(2 x^2)`` for large ``x``).

    Same construction as :func:`erfcx`: ``(1 - sqrt(pi) x erfcx(x)) (4 + x)^2 / 16`` is a piecewise polynomial
    in ``y = 4/(4 + x)`` (table from :func:`generate_erfcx_table` with ``function="mills"``).  With
    ``x = -h/sqrt 2`` it is ``a = 1 + h Y(h) = Y'(h)``, the leading coefficient of the small-``t`` expansion of
    the normalised Black function, which the direct formula loses to cancellation (factor ``h^2``).
    """
    if x == math.inf:
        return 0.0
    rd = 1.0 / (4.0 + x)
    j = int(ERFCX_PIECES * 4.0 * rd)
    if j > ERFCX_PIECES - 1:
        j = ERFCX_PIECES - 1
    u = (4.0 * (ERFCX_PIECES - j) - j * x) * rd
    acc = _MILLS_TABLE[j, ERFCX_DEGREE]
    for k in range(ERFCX_DEGREE - 1, -1, -1):
        acc = acc * u + _MILLS_TABLE[j, k]
    return acc * (16.0 * rd * rd)


@njit(cache=True, error_model="numpy")
def norm_pdf(z: float) -> float:
    """Standard normal density, ``exp(-z**2/2) / sqrt(2 pi)``, with the exponent formed exactly."""
    return INV_SQRT_2PI * exp_neg_half_square(z)


@njit(cache=True, error_model="numpy")
def norm_cdf(z: float) -> float:
    """Standard normal distribution function ``Phi(z)``, accurate relative to itself in both tails."""
    if z <= 0.0:
        if z < -38.5:
            return 0.0 if z == z else z
        return 0.5 * erfcx(-z * INV_SQRT_2) * exp_neg_half_square(z)
    if z > 38.5:
        return 1.0
    return 1.0 - 0.5 * erfcx(z * INV_SQRT_2) * exp_neg_half_square(z)


@njit(cache=True, error_model="numpy")
def ppf_from_log_steps(lp: float, steps: int) -> float:
    """``Phi^{-1}(exp(lp))`` with ``steps`` Halley corrections (see :func:`norm_ppf_from_log`).

    One step leaves a relative error below 1e-9 (the start is within 4.5e-4 and Halley's method is cubic),
    which is all the implied-volatility initial guess needs; two steps reach about 1e-15.
    """
    if lp != lp or lp > 0.0:
        return math.nan
    if lp == 0.0:
        return math.inf
    if lp == -math.inf:
        return -math.inf
    if lp > -0.6931471805599453:
        # upper half: p > 1/2, use q = 1 - p = -expm1(lp)
        return -ppf_from_log_steps(math.log(-math.expm1(lp)), steps)
    # Abramowitz & Stegun 26.2.23 on t = sqrt(-2 log p)
    t = math.sqrt(-2.0 * lp)
    z = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    for _ in range(steps):
        # Halley on f(z) = log Phi(z) - lp; f' = lam = phi/Phi; f'' = -lam (z + lam)
        y = SQRT_HALF_PI * erfcx(-z * INV_SQRT_2)  # Phi(z) / phi(z)
        f = math.log(y) - 0.5 * z * z - LOG_SQRT_2PI - lp
        lam = 1.0 / y
        z -= (f / lam) / (1.0 + 0.5 * f * (z + lam) / lam)
    return z


@njit(cache=True, error_model="numpy")
def norm_ppf_from_log(lp: float) -> float:
    """Inverse normal distribution function from the log-probability: ``Phi^{-1}(exp(lp))``, ``lp <= 0``.

    Works in the log domain so arbitrarily deep tails (``lp = -1e5``) are fine.  For ``lp > log(1/2)`` the
    symmetric formula ``-Phi^{-1}(1 - p)`` is used.  Relative accuracy about 1e-15.
    """
    return ppf_from_log_steps(lp, 2)


# =========================================================================================================
# normalised Black function, prices and greeks
# =========================================================================================================

# region thresholds (see module docstring)
_C_THRESHOLD = 0.85
_A_THRESHOLD = -10.0
_A_MAX_T = 1.0
_B_MAX_T = 0.3
_B_WIDE_T = 0.21  # for 0.21 <= t < 0.3 region B only near the money (h > -3); further out D is as good
_B_WIDE_H = -3.0
_A_MAX_TERMS = 40
SMALL_T_TERMS = 10


def _small_t_tables(terms: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of ``Y^{(2k+1)}(h)/(2k+1)! = sum_m P[k,m] h^{2m} a + Q[k,m] h^{2m}`` (``a = 1 + hY``).

    Built from ``Y^{(n+1)} = n Y^{(n-1)} + h Y^{(n)}`` with ``Y^{(n)} = u_n(h) + v_n(h) Y`` in exact rational
    arithmetic, then ``Y = (a - 1)/h`` which leaves polynomials in ``h^2`` for odd ``n``.
    """
    # polynomials as {power of h: Fraction}
    def add(p: dict[int, Fraction], q: dict[int, Fraction], c: int = 1) -> dict[int, Fraction]:
        out = dict(p)
        for k, v in q.items():
            out[k] = out.get(k, Fraction(0)) + c * v
        return out

    u: list[dict[int, Fraction]] = [{}, {0: Fraction(1)}]
    v: list[dict[int, Fraction]] = [{0: Fraction(1)}, {1: Fraction(1)}]
    for n in range(1, 2 * terms + 1):
        u.append(add({k + 1: c for k, c in u[n].items()}, u[n - 1], n))
        v.append(add({k + 1: c for k, c in v[n].items()}, v[n - 1], n))
    p_tab = np.zeros((terms, terms))
    q_tab = np.zeros((terms, terms))
    for k in range(terms):
        n = 2 * k + 1
        fact = math.factorial(n)
        v_over_h = {power - 1: c for power, c in v[n].items()}
        rest = add(u[n], v_over_h, -1)
        for power, c in v_over_h.items():
            p_tab[k, power // 2] = float(c / fact)
        for power, c in rest.items():
            if c != 0:
                q_tab[k, power // 2] = float(c / fact)
    return p_tab, q_tab


_SMALL_T_P, _SMALL_T_Q = _small_t_tables(SMALL_T_TERMS)


@njit(cache=True, error_model="numpy")
def otm_scaled(x: float, s: float) -> tuple[float, float]:
    """Normalised out-of-the-money call ``b(x, s) = m * exp(-E)`` for ``x <= 0``, ``s > 0``; returns ``(m, E)``.

    ``m`` is a moderate number (no underflow), ``E = (x^2/s^2 + s^2/4)/2`` except in region C where
    ``E = 0`` and ``m = b``.
    """
    h = x / s
    t = 0.5 * s
    z = h + t
    if z > _C_THRESHOLD:
        ex = math.exp(0.5 * x)
        return ex * norm_cdf(z) - norm_cdf(h - t) / ex, 0.0
    e = 0.5 * (h * h + t * t)
    if z <= _A_THRESHOLD and t < _A_MAX_T:
        if h == -math.inf:
            return 0.0, math.inf
        a_arg = h - t
        q = 1.0 / (z * z)
        rho = z / a_arg
        total = 1.0
        geo = 1.0  # sum_{j < 2k+1} rho^j
        rho_pow = rho
        coef = 1.0
        qk = 1.0
        for k in range(1, _A_MAX_TERMS):
            geo += rho_pow
            rho_pow *= rho
            geo += rho_pow
            rho_pow *= rho
            coef *= -(2.0 * k - 1.0)
            qk *= q
            term = coef * qk * geo
            total += term
            if abs(term) < 1e-17 * total:
                break
        return INV_SQRT_2PI * (2.0 * t / (a_arg * z)) * total, e
    if t < _B_MAX_T and (t < _B_WIDE_T or h > _B_WIDE_H):
        hh = h * h
        w = t * t
        a = one_minus_mills(-h * INV_SQRT_2)  # 1 + h Y(h), no cancellation
        # ten terms: the k-th is below 2^k k! / (2k+1)! t^{2k} (its size at h = 0), < 1e-18 at t = 0.3 for k = 10;
        # a fixed count (unrolled by the compiler) is faster than fewer terms for small t
        total = 0.0
        for k in range(SMALL_T_TERMS - 1, -1, -1):
            pk = 0.0
            qk2 = 0.0
            for j in range(k, -1, -1):
                pk = pk * hh + _SMALL_T_P[k, j]
                qk2 = qk2 * hh + _SMALL_T_Q[k, j]
            total = total * w + (pk * a + qk2)
        return INV_SQRT_2PI * 2.0 * t * total, e
    return 0.5 * (erfcx(-z * INV_SQRT_2) - erfcx(-(h - t) * INV_SQRT_2)), e


@njit(cache=True, error_model="numpy")
def otm_complement(x: float, s: float) -> float:
    """``e^{x/2} - b(x, s)`` for ``x <= 0`` as a sum of two positive terms (accurate near the upper bound)."""
    h = x / s
    t = 0.5 * s
    ex = math.exp(0.5 * x)
    return ex * norm_cdf(-(h + t)) + norm_cdf(h - t) / ex


@njit(cache=True, error_model="numpy")
def normalised_black(x: float, s: float, theta: float) -> float:
    """Normalised Black price ``b`` for a call (``theta = 1``) or put (``theta = -1``); ``s >= 0``."""
    y = theta * x
    if s <= 0.0:
        return 2.0 * math.sinh(0.5 * y) if y > 0.0 else 0.0
    m, e = otm_scaled(-abs(y), s)
    otm = m * math.exp(-e)
    if y > 0.0:
        return 2.0 * math.sinh(0.5 * y) + otm
    return otm


@njit(cache=True, error_model="numpy")
def log_ratio(a: float, b: float) -> float:
    """``ln(a/b)`` without the rounding of the quotient (error ~1e-16 absolute near ``a = b``, not relative).

    ``q = a/b`` is rounded; the exact remainder ``a - q b`` (Dekker's product, no fused multiply-add needed)
    gives ``ln(a/b) = ln q + (a - q b)/a`` to first order.  This matters far out of the money, where the
    price's sensitivity to ``ln(F/K)`` is ``|ln(F/K)| / s^2`` (up to 1e5 in the reference table).
    """
    q = a / b
    p = q * b
    c = _SPLITTER * q
    q_hi = c - (c - q)
    q_lo = q - q_hi
    c = _SPLITTER * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    err = ((q_hi * b_hi - p) + q_hi * b_lo + q_lo * b_hi) + q_lo * b_lo
    return math.log(q) + ((a - p) - err) / a


#: number of rows written by the price-and-greeks kernels, in this order
GREEK_ROWS = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga")


@njit(cache=True, error_model="numpy")
def black_parts(x: float, s: float, scale: float) -> tuple[float, float, float, float, float, float]:
    """Everything the price and greeks need at ``(x, s)``, ``s > 0``, sharing the expensive evaluations.

    Returns ``(scale b, N(d1), N(-d1), N(d2), N(-d2), g)`` with ``b = b(-|x|, s)`` the normalised
    out-of-the-money value (multiplied in log space when ``b`` alone would underflow), ``d1,2 = x/s +- s/2``
    and ``g = exp(-(x^2/s^2 + s^2/4)/2)/sqrt(2 pi)``, so that ``F phi(d1) = sqrt(F K) g``.  With ``xo = -|x|``,
    ``z1,2 = xo/s +- s/2`` and ``E = (xo^2/s^2 + s^2/4)/2``:
    ``N(z1) = erfcx(-z1/sqrt2) e^{-E} e^{-xo/2} / 2`` and ``N(z2) = erfcx(-z2/sqrt2) e^{-E} e^{xo/2} / 2``, so in
    region D the two ``erfcx`` values of ``b`` give both probabilities; every tail is formed directly (no
    ``1 - N`` where ``N`` is close to 1).
    """
    xo = -abs(x)
    h = xo / s
    t = 0.5 * s
    z1 = h + t
    z2 = h - t
    e = 0.5 * (h * h + t * t)
    ee = math.exp(-e)
    if z1 > _C_THRESHOLD:
        q1 = norm_cdf(-z1)
        c1 = 1.0 - q1
        c2 = norm_cdf(z2)
        ex = math.exp(0.5 * xo)
        sb = scale * (ex * c1 - c2 / ex)
    else:
        ex = math.exp(0.5 * xo)
        x1 = erfcx(-z1 * INV_SQRT_2)
        x2 = erfcx(-z2 * INV_SQRT_2)
        if (z1 <= _A_THRESHOLD and t < _A_MAX_T) or (t < _B_MAX_T and (t < _B_WIDE_T or h > _B_WIDE_H)):
            m, _ = otm_scaled(xo, s)
        else:
            m = 0.5 * (x1 - x2)
        sb = scale * (m * ee) if e < 700.0 else m * math.exp(math.log(scale) - e)
        c1 = 0.5 * x1 * ee / ex
        q1 = 1.0 - c1
        c2 = 0.5 * x2 * ee * ex
    g = INV_SQRT_2PI * ee
    if x <= 0.0:
        return sb, c1, q1, c2, 1.0 - c2, g
    return sb, 1.0 - c2, c2, q1, c1, g


@njit(cache=True, error_model="numpy")
def _limits_at_zero_vol(theta: float, x: float, out: np.ndarray) -> tuple[float, float]:
    """``N(theta d1)``, ``N(theta d2)`` as ``s -> 0`` (step functions of the moneyness; 1/2 at the money)."""
    y = theta * x
    p = 1.0 if y > 0.0 else (0.0 if y < 0.0 else 0.5)
    out[2] = 0.0
    out[3] = 0.0
    out[6] = 0.0
    out[7] = 0.0
    return p, p


@njit(cache=True, error_model="numpy")
def black76_row(
    theta: float, forward: float, strike: float, t: float, vol: float, df: float, greeks: bool, out: np.ndarray
) -> None:
    """Price (``out[0]``) and, if ``greeks``, the seven Black-76 greeks (``out[1:8]``) of one option."""
    ok = (
        (theta == 1.0 or theta == -1.0)
        and forward > 0.0
        and strike > 0.0
        and t >= 0.0
        and vol >= 0.0
        and df > 0.0
        and forward < math.inf
        and strike < math.inf
        and t < math.inf
        and vol < math.inf
        and df < math.inf
    )
    if not ok:
        out[:] = math.nan
        return
    x = log_ratio(forward, strike)
    sqrt_t = math.sqrt(t)
    s = vol * sqrt_t
    fk = forward * strike
    scale = df * (math.sqrt(fk) if 1e-300 < fk < 1e300 else math.sqrt(forward) * math.sqrt(strike))
    y = theta * x
    intrinsic = max(theta * df * (forward - strike), 0.0) if y > 0.0 else 0.0
    if s > 0.0:
        sb, n1, m1, _, _, g = black_parts(x, s, scale)
        price = intrinsic + sb
    else:
        price = intrinsic
    out[0] = price
    if not greeks:
        return
    rate = -math.log(df) / t if t > 0.0 else 0.0
    if s > 0.0:
        cdf1 = n1 if theta > 0.0 else m1
        vega = scale * g * sqrt_t
        inv_fs = 1.0 / (forward * s)
        d1 = x / s + 0.5 * s
        out[2] = vega * inv_fs / (forward * sqrt_t)
        out[3] = vega
        out[4] = -0.5 * vega * vol / t + rate * price
        out[6] = -vega * (d1 - s) * inv_fs
        out[7] = vega * d1 * (d1 - s) / vol
    else:
        cdf1, _ = _limits_at_zero_vol(theta, x, out)
        out[4] = rate * price
    out[1] = theta * df * cdf1
    out[5] = -t * price


@njit(cache=True, error_model="numpy")
def black_scholes_row(
    theta: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    vol: float,
    div: float,
    greeks: bool,
    out: np.ndarray,
) -> None:
    """Price (``out[0]``) and, if ``greeks``, the seven Black-Scholes-Merton greeks (``out[1:8]``)."""
    ok = (
        (theta == 1.0 or theta == -1.0)
        and spot > 0.0
        and strike > 0.0
        and t >= 0.0
        and vol >= 0.0
        and spot < math.inf
        and strike < math.inf
        and t < math.inf
        and vol < math.inf
        and abs(rate) < math.inf
        and abs(div) < math.inf
    )
    if not ok:
        out[:] = math.nan
        return
    x = log_ratio(spot, strike) + (rate - div) * t
    sqrt_t = math.sqrt(t)
    s = vol * sqrt_t
    dq = math.exp(-div * t)
    dr = math.exp(-rate * t)
    skd = spot * strike * dq * dr
    # D sqrt(F K) = sqrt(S K) e^{-(r+q)t/2}
    scale = math.sqrt(skd) if 1e-300 < skd < 1e300 else math.sqrt(spot) * math.sqrt(strike) * math.sqrt(dq * dr)
    y = theta * x
    intrinsic = max(theta * (spot * dq - strike * dr), 0.0) if y > 0.0 else 0.0
    if s > 0.0:
        sb, n1, m1, n2, m2, g = black_parts(x, s, scale)
        price = intrinsic + sb
    else:
        price = intrinsic
    out[0] = price
    if not greeks:
        return
    if s > 0.0:
        cdf1 = n1 if theta > 0.0 else m1
        cdf2 = n2 if theta > 0.0 else m2
        vega = scale * g * sqrt_t  # S e^{-qt} phi(d1) sqrt(t)
        inv_ss = 1.0 / (spot * s)
        d1 = x / s + 0.5 * s
        out[2] = vega * inv_ss / (spot * sqrt_t)
        out[3] = vega
        decay = -0.5 * vega * vol / t
        out[6] = -vega * (d1 - s) * inv_ss
        out[7] = vega * d1 * (d1 - s) / vol
    else:
        cdf1, cdf2 = _limits_at_zero_vol(theta, x, out)
        decay = 0.0
    out[1] = theta * dq * cdf1
    out[4] = decay - theta * rate * strike * dr * cdf2 + theta * div * spot * dq * cdf1
    out[5] = theta * strike * t * dr * cdf2


# ---------------------------------------------------------------------------------------------------------
# compiled array loops; every input is a 1-d float64 array of length n or 1 (length 1 = broadcast scalar)
# ---------------------------------------------------------------------------------------------------------

#: below this many options the serial loops are used (thread start-up costs more than it saves)
PARALLEL_THRESHOLD = 20_000


@njit(cache=True, error_model="numpy")
def _black76_body(i, th, f, k, t, v, d, greeks, out):
    j = np.int64(i)
    black76_row(
        th[j * (th.size > 1)],
        f[j * (f.size > 1)],
        k[j * (k.size > 1)],
        t[j * (t.size > 1)],
        v[j * (v.size > 1)],
        d[j * (d.size > 1)],
        greeks,
        out[:, j],
    )


@njit(cache=True, error_model="numpy")
def black76_loop_serial(th, f, k, t, v, d, greeks, out):
    for i in range(out.shape[1]):
        _black76_body(i, th, f, k, t, v, d, greeks, out)


@njit(cache=True, parallel=True, error_model="numpy")
def black76_loop_parallel(th, f, k, t, v, d, greeks, out):
    for i in prange(out.shape[1]):
        _black76_body(i, th, f, k, t, v, d, greeks, out)


@njit(cache=True, error_model="numpy")
def _bs_body(i, th, sp, k, t, r, v, q, greeks, out):
    j = np.int64(i)
    black_scholes_row(
        th[j * (th.size > 1)],
        sp[j * (sp.size > 1)],
        k[j * (k.size > 1)],
        t[j * (t.size > 1)],
        r[j * (r.size > 1)],
        v[j * (v.size > 1)],
        q[j * (q.size > 1)],
        greeks,
        out[:, j],
    )


@njit(cache=True, error_model="numpy")
def bs_loop_serial(th, sp, k, t, r, v, q, greeks, out):
    for i in range(out.shape[1]):
        _bs_body(i, th, sp, k, t, r, v, q, greeks, out)


@njit(cache=True, parallel=True, error_model="numpy")
def bs_loop_parallel(th, sp, k, t, r, v, q, greeks, out):
    for i in prange(out.shape[1]):
        _bs_body(i, th, sp, k, t, r, v, q, greeks, out)


# =========================================================================================================
# implied volatility
# =========================================================================================================

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
_INV_SQRT3 = 1.0 / math.sqrt(3.0)
_LOWER_MAP = 2.0 * math.pi / (3.0 * math.sqrt(3.0))
_MAX_STEPS = 4
# stop after a step below tol * s: the next one would be ~ (tol)^6 times a constant; the constant is larger
# for the log-type objectives of the outer branches (measured: 1e-2 keeps the central branches at 2e-15)
_STEP_TOL_CENTRAL = 1e-2
_STEP_TOL_OUTER = 1e-3


# The interpolation nodes s_l, s_u of the initial guess depend on x only (through w = sqrt|x|):
#   s_l = sqrt(2) w - sqrt(pi/2) (1 - erfcx(w)),  s_u = sqrt(2) w + sqrt(pi/2) (1 + erfcx(w)),
# and so do b_l = b(x, s_l) and c_u = e^{x/2} - b(x, s_u).  Both are tabulated (ln(b_l / |x|) and ln c_u, smooth
# and finite at w = 0) as piecewise polynomials in w on [0, 16) (|x| < 256), which saves one evaluation of the
# Black function per option; beyond, the nodes are evaluated directly.  The tables are built at import from
# SciPy's normal distribution function (relative accuracy ~1e-12 is plenty: they only place the guess).
_NODE_PIECES = 64
_NODE_WIDTH = 0.25
_NODE_DEGREE = 7
_NODE_W_MAX = _NODE_PIECES * _NODE_WIDTH


def _guess_node_tables() -> np.ndarray:
    """Monomial coefficients (in ``u = w / width - j``) of ``ln(b_l/|x|)`` (row 0) and ``ln c_u`` (row 1)."""
    from scipy.special import erfcx as sp_erfcx  # only needed while building the table
    from scipy.special import ndtr

    k = np.arange(_NODE_DEGREE + 1)
    u = 0.5 * (1.0 - np.cos(np.pi * (k + 0.5) / (_NODE_DEGREE + 1)))  # Chebyshev points in [0, 1]
    vander = np.vander(u, _NODE_DEGREE + 1, increasing=True)
    out = np.empty((2, _NODE_PIECES, _NODE_DEGREE + 1))
    for j in range(_NODE_PIECES):
        w = (j + u) * _NODE_WIDTH
        x = -w * w
        s_l = math.sqrt(2.0) * w - math.sqrt(0.5 * math.pi) * (1.0 - sp_erfcx(w))
        s_u = math.sqrt(2.0) * w + math.sqrt(0.5 * math.pi) * (1.0 + sp_erfcx(w))
        h, t = x / s_l, 0.5 * s_l
        b_l = np.exp(0.5 * x) * ndtr(h + t) - np.exp(-0.5 * x) * ndtr(h - t)
        h, t = x / s_u, 0.5 * s_u
        c_u = np.exp(0.5 * x) * ndtr(-(h + t)) + np.exp(-0.5 * x) * ndtr(h - t)
        out[0, j] = np.linalg.solve(vander, np.log(b_l / (w * w)))
        out[1, j] = np.linalg.solve(vander, np.log(c_u))
    return out


_NODE_TABLE = _guess_node_tables()


@njit(cache=True, error_model="numpy")
def _node_poly(row: int, w: float) -> float:
    """Tabulated ``ln(b_l/|x|)`` (row 0) or ``ln c_u`` (row 1) at ``w = sqrt|x| < 16``."""
    pos = w * (1.0 / _NODE_WIDTH)
    j = int(pos)
    u = pos - j
    acc = _NODE_TABLE[row, j, _NODE_DEGREE]
    for i in range(_NODE_DEGREE - 1, -1, -1):
        acc = acc * u + _NODE_TABLE[row, j, i]
    return acc


@njit(cache=True, error_model="numpy")
def _slope_terms(x: float, s: float) -> tuple[float, float]:
    """``1/b'`` and ``b''/b'`` at ``(x, s)`` (closed form)."""
    inv_s = 1.0 / s
    h = x * inv_s
    t = 0.5 * s
    hh = h * h
    return _SQRT_2PI * math.exp(0.5 * (hh + t * t)), (hh - t * t) * inv_s



@njit(cache=True, error_model="numpy")
def _rational_cubic(th: float, om: float, h: float, y0: float, y1: float, d0: float, d1: float, r: float) -> float:
    """Delbourgo-Gregory rational cubic at ``x0 + th h`` (``om = 1 - th`` passed separately for accuracy).

    ``R = [y1 th^3 + (r y1 - h d1) th^2 om + (r y0 + h d0) th om^2 + y0 om^3] / [1 + (r - 3) th om]``: values
    ``y0, y1`` and slopes ``d0, d1`` at the ends; ``r = 3`` is the cubic Hermite interpolant.
    """
    num = y1 * th * th * th + (r * y1 - h * d1) * th * th * om + (r * y0 + h * d0) * th * om * om
    num += y0 * om * om * om
    return num / (1.0 + (r - 3.0) * th * om)


@njit(cache=True, error_model="numpy")
def _control(h: float, y0: float, y1: float, d0: float, d1: float, second: float, at_right: bool) -> float:
    """Control parameter ``r`` giving the rational cubic the second derivative ``second`` at one end.

    Expanding ``R`` at ``x0``: ``R = y0 + d0 (x - x0) + [r (Delta - d0) - (d1 - d0)] (x - x0)^2 / h + ...``
    with ``Delta = (y1 - y0)/h``, hence ``r = (h R''/2 + d1 - d0) / (Delta - d0)``; at ``x1`` (mirror image)
    ``r = (h R''/2 + d1 - d0) / (d1 - Delta)``.  The result is raised to ``(d0 + d1)/Delta`` so that monotone
    data give a monotone interpolant (Delbourgo & Gregory 1985) and kept above -1 (no pole in ``[x0, x1]``).
    """
    dy = y1 - y0
    delta = dy / h
    num = 0.5 * h * second + (d1 - d0)
    den = d1 - delta if at_right else delta - d0
    r = num / den if den != 0.0 else (1e300 if num > 0.0 else 0.0)
    r_min = -1.0 + 1e-8
    if delta != 0.0 and d0 * delta >= 0.0 and d1 * delta >= 0.0:
        r_min = max(r_min, (d0 + d1) * h / dy)
    return r if r > r_min else r_min


@njit(cache=True, error_model="numpy")
def _node(x: float, s: float) -> tuple[float, float, float]:
    """``b``, ``1/b'`` and ``b''/b'`` at an interpolation node ``s`` (``x <= 0``)."""
    m, e = otm_scaled(x, s)
    inv_s = 1.0 / s
    h = x * inv_s
    t = 0.5 * s
    hh = h * h
    if e == 0.0:  # region C: m is b itself
        e = 0.5 * (hh + t * t)
        b = m
    else:
        b = m * math.exp(-e)
    return b, _SQRT_2PI * math.exp(e), (hh - t * t) * inv_s


@njit(cache=True, error_model="numpy")
def _initial_guess(x: float, beta: float, cbeta: float, ln_beta: float) -> tuple[float, int]:
    """Initial ``s`` and the branch (0 lower, 1 lower-middle, 2 upper-middle, 3 upper); ``x <= 0``.

    Central point: ``s_c = sqrt(2|x|)``, ``b_c = e^{x/2} (1 - erfcx(sqrt|x|)) / 2`` (since ``h + t = 0``
    there), ``b'(s_c) = e^{x/2}/sqrt(2 pi)``.
    """
    ax = -x
    sqrt_ax = math.sqrt(ax)
    b_max = math.exp(0.5 * x)
    s_c = _SQRT2 * sqrt_ax
    b_c = 0.5 * b_max * (1.0 - erfcx(sqrt_ax))
    inv_v_c = _SQRT_2PI * math.exp(-0.5 * x)
    tabulated = sqrt_ax < _NODE_W_MAX
    if beta < b_c:
        s_l = s_c - b_c * inv_v_c
        if tabulated:
            b_l = ax * math.exp(_node_poly(0, sqrt_ax))
            inv_v_l, ratio2_l = _slope_terms(x, s_l)
        else:
            b_l, inv_v_l, ratio2_l = _node(x, s_l)
        if beta < b_l:
            # interpolate F(beta) = f_l(s(beta)) on [0, b_l]: F(0) = 0, F'(0) = 1, f_l = c |x| Phi(z)^3
            inv_s_l = 1.0 / s_l
            z = -ax * _INV_SQRT3 * inv_s_l
            mills = SQRT_HALF_PI * erfcx(-z * INV_SQRT_2)  # Phi(z)/phi(z)
            inv_mills = 1.0 / mills
            cdf = mills * INV_SQRT_2PI * math.exp(-0.5 * z * z)
            c_ax = _LOWER_MAP * ax
            f_l = c_ax * cdf * cdf * cdf
            d1 = f_l * 3.0 * inv_mills * (-z * inv_s_l) * inv_v_l  # dF/dbeta = f_l'(s) / b'(s)
            d2f_over_df = ((z * z - 2.0) - 2.0 * z * inv_mills) * inv_s_l
            second = d1 * (d2f_over_df - ratio2_l) * inv_v_l
            r = _control(b_l, 0.0, f_l, 1.0, d1, second, True)
            th = beta / b_l
            om = 1.0 - th
            # F(beta) / beta, so that ln F stays exact for prices far below the float64 range
            ratio = (f_l * th * th + (r * f_l - b_l * d1) * th * om + b_l * om * om) / (
                b_l * (1.0 + (r - 3.0) * th * om)
            )
            lb = ln_beta if ln_beta == ln_beta else math.log(beta)
            log_p = (lb + math.log(ratio) - math.log(c_ax)) * (1.0 / 3.0)
            return -ax * _INV_SQRT3 / ppf_from_log_steps(log_p, 1), 0
        h = b_c - b_l
        r = _control(h, s_l, s_c, inv_v_l, inv_v_c, 0.0, True)
        th = (beta - b_l) / h
        return _rational_cubic(th, 1.0 - th, h, s_l, s_c, inv_v_l, inv_v_c, r), 1
    s_u = s_c + (b_max - b_c) * inv_v_c
    if tabulated:
        c_u = math.exp(_node_poly(1, sqrt_ax))
        b_u = b_max - c_u
        inv_v_u, ratio2_u = _slope_terms(x, s_u)
    else:
        b_u, inv_v_u, ratio2_u = _node(x, s_u)
        c_u = b_max - b_u
    if beta <= b_u:
        h = b_u - b_c
        r = _control(h, s_c, s_u, inv_v_c, inv_v_u, 0.0, False)
        th = (beta - b_c) / h
        return _rational_cubic(th, 1.0 - th, h, s_c, s_u, inv_v_c, inv_v_u, r), 2
    # interpolate F(beta) = f_u(s(beta)) = Phi(-s/2) on [b_u, b_max]: F(b_max) = 0, F'(b_max) = -1/2
    f_u = norm_cdf(-0.5 * s_u)
    d0 = -0.5 * norm_pdf(0.5 * s_u) * inv_v_u
    second = d0 * (-0.25 * s_u - ratio2_u) * inv_v_u
    h = c_u
    r = _control(h, f_u, 0.0, d0, -0.5, second, False)
    om = cbeta / h
    f = _rational_cubic(1.0 - om, om, h, f_u, 0.0, d0, -0.5, r)
    if not f > 0.0:
        f = 0.5 * cbeta
    return -2.0 * ppf_from_log_steps(math.log(f), 1), 3


@njit(cache=True, inline="always", error_model="numpy")
def _compose(
    o2: float, o3: float, o4: float, o5: float, b2: float, b3: float, b4: float, b5: float
) -> tuple[float, float, float, float]:
    """Derivative ratios of ``G(f(s))`` from those of ``f`` (Faa di Bruno up to order 5).

    ``b_k = f^{(k)}/f'`` and ``o_k = G^{(k)}(f) f'^{k-1} / G'(f)``; returns ``(G o f)^{(k)} / (G o f)'``.
    """
    a2 = o2 + b2
    a3 = o3 + 3.0 * o2 * b2 + b3
    a4 = o4 + 6.0 * o3 * b2 + o2 * (3.0 * b2 * b2 + 4.0 * b3) + b4
    a5 = o5 + 10.0 * o4 * b2 + o3 * (15.0 * b2 * b2 + 10.0 * b3) + o2 * (10.0 * b2 * b3 + 5.0 * b4) + b5
    return a2, a3, a4, a5


@njit(cache=True, inline="always", error_model="numpy")
def _reversion_step(nu: float, r2: float, r3: float, r4: float, r5: float) -> float:
    """Root offset ``d`` of ``g(s + d) = 0`` from ``nu = -g/g'`` and ``r_k = g^{(k)}/g'`` (order-6 step).

    With ``a_k = r_k / k!`` the equation is ``d + a2 d^2 + a3 d^3 + a4 d^4 + a5 d^5 = nu``; the series
    reversion truncated after ``nu^5`` leaves an error ``O(nu^6)``.
    """
    a2 = r2 * 0.5
    a3 = r3 * (1.0 / 6.0)
    a4 = r4 * (1.0 / 24.0)
    a5 = r5 * (1.0 / 120.0)
    a2a2 = a2 * a2
    c3 = 2.0 * a2a2 - a3
    c4 = 5.0 * a2 * a3 - 5.0 * a2 * a2a2 - a4
    c5 = 14.0 * a2a2 * a2a2 - 21.0 * a2a2 * a3 + 6.0 * a2 * a4 + 3.0 * a3 * a3 - a5
    return nu * (1.0 + nu * (-a2 + nu * (c3 + nu * (c4 + nu * c5))))


@njit(cache=True, error_model="numpy")
def normalised_implied_vol(x: float, beta: float, cbeta: float, ln_beta: float = math.nan) -> float:
    """Total volatility ``s`` with ``b(x, s) = beta`` for ``x <= 0`` and ``0 < beta < e^{x/2}``.

    ``cbeta = e^{x/2} - beta`` is passed separately so that prices near the upper bound keep their accuracy,
    and ``ln_beta = ln(beta)`` so that prices whose normalised value is subnormal keep theirs (NaN: computed).
    """
    return solve_normalised(x, beta, cbeta, ln_beta)[0]


@njit(cache=True, error_model="numpy")
def solve_normalised(x: float, beta: float, cbeta: float, ln_beta: float) -> tuple[float, int, int]:
    """:func:`normalised_implied_vol` that also returns the guess branch and the number of steps taken."""
    s, branch = _initial_guess(x, beta, cbeta, ln_beta)
    if branch == 0 and ln_beta != ln_beta:
        ln_beta = math.log(beta)
    tol = _STEP_TOL_CENTRAL if branch == 1 or branch == 2 else _STEP_TOL_OUTER
    xx = x * x
    steps = 0
    for _ in range(_MAX_STEPS):
        steps += 1
        m, e = otm_scaled(x, s)
        inv_s = 1.0 / s
        inv_s2 = inv_s * inv_s
        t = 0.5 * s
        hh = xx * inv_s2
        if e == 0.0:  # region C: m is b itself
            b = m
            slope = INV_SQRT_2PI * math.exp(-0.5 * (hh + t * t))
        else:
            factor = math.exp(-e)
            b = m * factor
            slope = INV_SQRT_2PI * factor
        # b^{(k)}/b' from b' = exp(-phi), q = -phi' = x^2/s^3 - s/4
        q = (hh - t * t) * inv_s
        q1 = -3.0 * hh * inv_s2 - 0.25
        q2 = 12.0 * hh * inv_s2 * inv_s
        q3 = -5.0 * q2 * inv_s
        b2 = q
        b3 = q1 + q * q
        b4 = q2 + 3.0 * q * q1 + q * q * q
        b5 = q3 + 4.0 * q * q2 + 3.0 * q1 * q1 + 6.0 * q * q * q1 + q * q * q * q
        if branch == 0:
            # g = ln b - ln beta, with ln b and b'/b from the scaled form (no underflow)
            u = math.log(m) - e
            lam = slope / m if e == 0.0 else INV_SQRT_2PI / m
            l2 = lam * lam
            r2, r3, r4, r5 = _compose(-lam, 2.0 * l2, -6.0 * l2 * lam, 24.0 * l2 * l2, b2, b3, b4, b5)
            nu = (ln_beta - u) / lam
        elif branch == 3:
            # g = ln(cbeta) - ln(e^{x/2} - b)
            c = otm_complement(x, s)
            mu = slope / c
            m2 = mu * mu
            r2, r3, r4, r5 = _compose(mu, 2.0 * m2, 6.0 * m2 * mu, 24.0 * m2 * m2, b2, b3, b4, b5)
            nu = math.log(c / cbeta) / mu
        else:
            # g = b - beta
            r2, r3, r4, r5 = b2, b3, b4, b5
            nu = (beta - b) / slope
        step = _reversion_step(nu, r2, r3, r4, r5)
        s_new = s + step
        if not s_new > 0.0:
            s_new = 0.5 * s
        s = s_new
        if abs(step) <= tol * s:
            break
    return s, branch, steps


@njit(cache=True, error_model="numpy")
def _implied_vol_one(
    theta: float, price: float, forward: float, strike: float, t: float, df: float
) -> tuple[float, int]:
    ok = (
        (theta == 1.0 or theta == -1.0)
        and abs(price) < math.inf
        and 0.0 < forward < math.inf
        and 0.0 < strike < math.inf
        and 0.0 < t < math.inf
        and 0.0 < df < math.inf
    )
    if not ok:
        return math.nan, 4
    x = log_ratio(forward, strike)
    time_value = price - theta * df * (forward - strike) if theta * x > 0.0 else price
    if time_value < 0.0:
        return math.nan, 2
    cap = df * forward if theta > 0.0 else df * strike
    if price >= cap:
        return math.nan, 3
    if time_value == 0.0:
        return 0.0, 1
    fk = forward * strike
    scale = df * (math.sqrt(fk) if 1e-300 < fk < 1e300 else math.sqrt(forward) * math.sqrt(strike))
    beta = time_value / scale
    # normalised prices below the normal range lose bits: give the solver the exact logarithm
    ln_beta = math.nan if beta > 1e-290 else math.log(time_value) - math.log(scale)
    s = normalised_implied_vol(-abs(x), beta, (cap - price) / scale, ln_beta)
    vol = s / math.sqrt(t)
    if not (vol >= 0.0 and vol < math.inf):
        return math.nan, 5
    return vol, 0


@njit(cache=True, error_model="numpy")
def _iv_body(i, th, p, f, k, t, d, vol, reason):
    j = np.int64(i)
    v, r = _implied_vol_one(
        th[j * (th.size > 1)],
        p[j * (p.size > 1)],
        f[j * (f.size > 1)],
        k[j * (k.size > 1)],
        t[j * (t.size > 1)],
        d[j * (d.size > 1)],
    )
    vol[j] = v
    reason[j] = r


@njit(cache=True, error_model="numpy")
def iv_loop_serial(th, p, f, k, t, d, vol, reason):
    for i in range(vol.size):
        _iv_body(i, th, p, f, k, t, d, vol, reason)


@njit(cache=True, parallel=True, error_model="numpy")
def iv_loop_parallel(th, p, f, k, t, d, vol, reason):
    for i in prange(vol.size):
        _iv_body(i, th, p, f, k, t, d, vol, reason)


# ---------------------------------------------------------------------------------------------------------
# Python-side input handling
# ---------------------------------------------------------------------------------------------------------

_CALL_WORDS = ("call", "c")
_PUT_WORDS = ("put", "p")  # (lower-case, stripped forms; see kind_to_theta)


def _match_kind_words(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact matches of ``"call"``/``"c"`` and ``"put"``/``"p"`` in a unicode array.

    Strings of up to four ASCII characters are packed 7 bits per character into one integer (exact), so a
    million kinds cost two integer comparisons each instead of four string comparisons.
    """
    nchar = arr.dtype.itemsize // 4
    if 0 < nchar <= 4 and arr.size:
        codes = np.ascontiguousarray(arr).reshape(-1).view(np.uint32).reshape(-1, nchar)
        if int(codes.max()) < 128:
            packed = codes[:, 0].copy()
            for j in range(1, nchar):
                packed |= codes[:, j] << np.uint32(7 * j)

            def key(word: str) -> int:
                return sum(ord(ch) << (7 * j) for j, ch in enumerate(word)) if len(word) <= nchar else -1

            is_call = (packed == key("call")) | (packed == key("c"))
            is_put = (packed == key("put")) | (packed == key("p"))
            return is_call.reshape(arr.shape), is_put.reshape(arr.shape)
    is_call = (arr == "call") | (arr == "c")
    is_put = (arr == "put") | (arr == "p")
    return is_call, is_put


def kind_to_theta(kind: object) -> np.ndarray:
    """``kind`` -> array of +1.0 (call) / -1.0 (put), same shape as ``kind``.

    Accepts ``"call"``/``"put"`` (also ``"c"``/``"p"``, any case, surrounding blanks ignored), an array of
    those, or a numeric array of +1/-1.  Anything else raises ``ValueError`` naming ``kind``.
    """
    arr = np.asarray(kind)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(str)
        except (TypeError, ValueError) as exc:  # pragma: no cover - exotic objects
            raise ValueError(f"kind: cannot interpret {kind!r} as option kinds") from exc
    if arr.dtype.kind in "US":
        if arr.dtype.kind == "S":
            arr = arr.astype(str)
        is_call, is_put = _match_kind_words(arr)
        if not np.all(is_call | is_put):
            norm = np.char.lower(np.char.strip(arr))
            is_call = np.isin(norm, _CALL_WORDS)
            is_put = np.isin(norm, _PUT_WORDS)
            bad = ~(is_call | is_put)
            if np.any(bad):
                examples = sorted({str(v) for v in np.atleast_1d(arr[bad])[:5]})
                raise ValueError(f"kind: unknown option kind(s) {examples}; expected 'call' or 'put' (or +1/-1)")
        return np.where(is_call, 1.0, -1.0)
    if arr.dtype.kind in "iuf":
        theta = arr.astype(np.float64)
        if not np.all((theta == 1.0) | (theta == -1.0)):
            raise ValueError("kind: numeric kinds must be +1 (call) or -1 (put)")
        return theta
    raise ValueError(f"kind: cannot interpret values of dtype {arr.dtype} as option kinds")


def broadcast_inputs(**named: object) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Convert every argument to float64 and broadcast them; returns ``(shape, flat arrays)``.

    Flat arrays have length ``prod(shape)`` or 1 (a broadcast scalar, not copied).  Raises ``ValueError``
    naming the argument that cannot be converted, or all argument shapes when they do not broadcast.
    """
    arrays: dict[str, np.ndarray] = {}
    for name, value in named.items():
        try:
            arrays[name] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: cannot convert to a float64 array ({exc})") from exc
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"arguments do not broadcast together: {shapes}") from None
    flat = []
    for a in arrays.values():
        if a.size == 1:
            flat.append(np.ascontiguousarray(a.reshape(1)))
        elif a.shape == shape:
            flat.append(np.ascontiguousarray(a).reshape(-1))
        else:
            flat.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1))
    return shape, flat


def finish(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reshape a flat result to the broadcast shape; 0-d results come back as NumPy float64 scalars."""
    out = values.reshape(shape)
    return out[()] if out.ndim == 0 else out


def run_black76(
    kind: object, forward: object, strike: object, t: object, vol: object, discount_factor: object, greeks: bool
) -> tuple[tuple[int, ...], np.ndarray]:
    """Validate, broadcast and run the Black-76 kernel; returns ``(shape, rows)`` with ``rows`` (1 or 8, n)."""
    theta = kind_to_theta(kind)
    shape, (th, f, k, tt, v, d) = broadcast_inputs(
        kind=theta, forward=forward, strike=strike, t=t, vol=vol, discount_factor=discount_factor
    )
    n = int(np.prod(shape))
    out = np.empty((len(GREEK_ROWS) if greeks else 1, n))
    loop = black76_loop_parallel if n >= PARALLEL_THRESHOLD else black76_loop_serial
    loop(th, f, k, tt, v, d, greeks, out)
    return shape, out


def run_black_scholes(
    kind: object,
    spot: object,
    strike: object,
    t: object,
    rate: object,
    vol: object,
    div_yield: object,
    greeks: bool,
) -> tuple[tuple[int, ...], np.ndarray]:
    """Validate, broadcast and run the Black-Scholes-Merton kernel (see :func:`run_black76`)."""
    theta = kind_to_theta(kind)
    shape, (th, sp, k, tt, r, v, q) = broadcast_inputs(
        kind=theta, spot=spot, strike=strike, t=t, rate=rate, vol=vol, div_yield=div_yield
    )
    n = int(np.prod(shape))
    out = np.empty((len(GREEK_ROWS) if greeks else 1, n))
    loop = bs_loop_parallel if n >= PARALLEL_THRESHOLD else bs_loop_serial
    loop(th, sp, k, tt, r, v, q, greeks, out)
    return shape, out
