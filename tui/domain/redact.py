"""Secrets out of incident reports.

A report (Markdown or JSON) is pasted into a shared incident channel, and the evidence it
carries (log lines, curl commands, env dumps, a pasted kubeconfig) routinely holds
credentials. `redact` replaces each secret with ``[redacted <kind> <fp>]``: the kind says
what to rotate (``bearer``, ``aws-key``, ``kubeconfig``...), and ``fp``, the first 6 hex
characters of the secret's sha256, lets two mentions of the same secret be matched
without revealing it. Everything around a secret stays, so the report still reads.

Secrets are found by shape (vendor prefixes such as ``sk-proj-``, ``ghp_``, ``AKIA``, JWTs,
PEM blocks, ``user:password@`` in URLs) or by the name they sit under (``password: ...``,
``X-Api-Key: ...``, ``?access_token=...``), never by "long random-looking string": GPU
UUIDs, pod hashes, image digests and commit ids look random too, and a report without them
is useless. Entropy is only consulted for values already under a secret-naming name.

Not covered, on purpose: a bare credential with neither a known prefix nor a name before it
(an AWS secret key alone on a line, a token as the only userinfo of a URL, a Sentry DSN),
which cannot be told from an id without eating ids as well.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["redact", "redact_json"]

_MARKER = re.compile(r"\[redacted [a-z0-9-]+ [0-9a-f]{6}\]")

# Authorization schemes whose credential is a single token after the scheme word.
_TOKEN_SCHEMES = {"bearer": "bearer", "basic": "basic-auth"}
_OTHER_SCHEMES = ("token", "bot", "apikey", "ssws", "splunk")
_SCHEME_WORDS = {*_TOKEN_SCHEMES, *_OTHER_SCHEMES, "digest", "negotiate", "ntlm"}

# Names whose value is a credential. A name must *end* with one of these words (optionally
# prefixed: GITHUB_TOKEN, db_password, X-Api-Key), so `api_key_id`, `max_tokens`,
# `tokenizer` and `secretName` are names of something else.
_SECRET_WORD = r"""(?:
    token | secret | password | passwd | pwd | passphrase | credentials? | authorization
  | cookie | signature
  | (?:api|access|secret|private|signing|encryption|master|client|account|license)[_.-]?key
  | j?session(?:[_.-]?(?:id|key|token|cookie))?
)"""
_SECRET_NAME = re.compile(rf"[\w.-]*?{_SECRET_WORD}", re.I | re.X)

# An LLM platform talks about tokens all day: `first_token`, `eos_token`, "output token: 512"
# count or name vocabulary tokens, not credentials.
_COUNTING = frozenset(
    (  # noqa: SIM905 - a word list reads better as words than as 34 quoted lines
        "first last next prev previous per max min num avg mean total count prompt completion "
        "input output generated special bos eos pad unk sep cls mask stop start end cached "
        "reasoning draft decode prefill"
    ).split()
)

# Keys that only kubeconfigs and Kubernetes Secrets use, with the kind they hold. The
# hyphenated token names are the kubeconfig spelling (OAuth JSON uses underscores and is
# caught by the general name rule).
_KUBE_KEYS = {
    "client-key-data": "kubeconfig",
    "client-certificate-data": "kubeconfig",
    "certificate-authority-data": "kubeconfig",
    "idp-certificate-authority-data": "kubeconfig",
    "id-token": "kubeconfig",
    "refresh-token": "kubeconfig",
    "access-token": "kubeconfig",
    "client-secret": "kubeconfig",
    "tls.key": "private-key",
    "ssh-privatekey": "private-key",
    ".dockerconfigjson": "docker-config",
    ".dockercfg": "docker-config",
}

# Values that stand for a secret without being one: variables, templates, other tools'
# masks (`kubectl config view` prints DATA+OMITTED and REDACTED). Keeping them keeps a
# runbook's `-H "Authorization: Bearer $TOKEN"` readable.
_PLACEHOLDER = re.compile(
    r"""(?ix)
      \$\{?\w+\}? | \$\(.*\) | %\(?\w*\)?s | <[^<>]*> | \{\{.*\}\} | \{\w*\}
    | \*+ | x{3,} | \.{3} | … | -+ | ~
    | null | none | nil | true | false | undefined | n/?a
    | redacted | \[redacted\] | data\+omitted | omitted | masked | hidden
    """
)

# A value: double-quoted (escapes allowed), single-quoted, or bare up to a delimiter. The
# quote itself is matched before the group, so the secret is the content only and its
# fingerprint matches the same secret seen unquoted elsewhere. A bare value never starts
# with `=` or `:`, or `key:=x` could be read again as `key:` followed by `=x`.
_VALUE = r"""(?:
    (?<=")(?:[^"\\\n]|\\.)*(?=")
  | (?<=')[^'\n]*(?=')
  | (?<!["'])(?![=:])[^\s"'`|,;&<>(){}\[\]]+
)"""

_REPORT_KEY_ID = "api_key"
"""The report's name for a rate-limited key's identifier (`KeyRejections.api_key`)."""


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:6]


def _marker(kind: str, secret: str) -> str:
    return f"[redacted {kind} {_fingerprint(secret)}]"


def _is_placeholder(value: str) -> bool:
    value = value.strip()
    return not value or bool(_PLACEHOLDER.fullmatch(value)) or value.startswith("[redacted ")


def _segments(name: str) -> list[str]:
    parts = re.split(r"[_.\-\s]+|(?<=[a-z0-9])(?=[A-Z])", name.strip("\"' "))
    return [p.lower() for p in parts if p]


def _names_secret(name: str) -> bool:
    """Whether a key, header, flag or env var name says its value is a credential."""
    name = name.strip("\"' ")
    if name.lower() in _KUBE_KEYS:
        return True
    if not _SECRET_NAME.fullmatch(name):
        return False
    return not any(s in _COUNTING for s in _segments(name))


def _kind_for_name(name: str) -> str:
    n = name.strip("\"' ").lower()
    if n in _KUBE_KEYS:
        return _KUBE_KEYS[n]
    if "aws" in n:
        return "aws-key"
    checks = (
        (r"pass|pwd", "password"),
        (r"cookie", "cookie"),
        (r"session", "session"),
        (r"authorization", "authorization"),
        (r"credential", "credentials"),
        (r"signature", "signature"),
        (r"api[_.-]?key", "api-key"),
        (r"private[_.-]?key", "private-key"),
        (r"secret|key", "secret"),
    )
    return next((kind for pattern, kind in checks if re.search(pattern, n)), "token")


def _high_entropy(value: str) -> bool:
    """A random-looking credential: 32+ chars of a base62/base64 alphabet, mixed case and
    digits, and dense. Single-case hex (sha digests, UUIDs) is how ids are hashed, so it
    never counts."""
    if not re.fullmatch(r"[A-Za-z0-9+/=_.~-]{32,}", value):
        return False
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
        return False
    n = len(value)
    entropy = -sum(c / n * math.log2(c / n) for c in Counter(value).values())
    return entropy >= 4.0


@dataclass(frozen=True, slots=True)
class _Rule:
    """A pattern whose named group ``secret`` is replaced when ``judge`` names a kind."""

    pattern: re.Pattern[str]
    judge: Callable[[re.Match[str]], str | None]


def _const(kind: str) -> Callable[[re.Match[str]], str | None]:
    return lambda _m: kind


def _with_digit(kind: str) -> Callable[[re.Match[str]], str | None]:
    # Checked here rather than in a lookahead, which would rescan the run at every `sk-`.
    return lambda m: kind if re.search(r"\d", m["secret"]) else None


def _unless_placeholder(kind: str) -> Callable[[re.Match[str]], str | None]:
    return lambda m: None if _is_placeholder(m["secret"]) else kind


def _inside(pos: int, starts: list[int], ends: list[int], *, at_start: bool) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and (starts[i] <= pos if at_start else starts[i] < pos) and pos < ends[i]


def _touches_marker(start: int, end: int, starts: list[int], ends: list[int]) -> bool:
    # A secret that starts at or inside a marker, or ends inside one, is a match on our own
    # output (`password [redacted password 1a2b3c]`); leaving it is what makes redact
    # idempotent. A marker wholly inside a larger secret (a cookie line) is swallowed.
    return _inside(start, starts, ends, at_start=True) or _inside(end, starts, ends, at_start=False)


def _apply(rule: _Rule, text: str) -> str:
    spans = [m.span() for m in _MARKER.finditer(text)]
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]

    def replace(m: re.Match[str]) -> str:
        start, end = m.span("secret")
        if start == end or _touches_marker(start, end, starts, ends):
            return m.group(0)
        kind = rule.judge(m)
        if kind is None:
            return m.group(0)
        return text[m.start() : start] + _marker(kind, m["secret"]) + text[end : m.end()]

    return rule.pattern.sub(replace, text)


def _jwt_kind(m: re.Match[str]) -> str:
    # A Kubernetes service-account token is a JWT; saying so tells the reader to rotate a
    # service account, not an IdP session.
    payload = m["secret"].split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return "jwt"
    if isinstance(claims, dict):
        iss = claims.get("iss")
        if "kubernetes.io" in claims or (isinstance(iss, str) and "kubernetes" in iss):
            return "k8s-token"
    return "jwt"


def _token_like(value: str) -> bool:
    """Long, or short with a digit or a symbol that words do not carry."""
    return len(value) >= 16 or (len(value) >= 6 and bool(re.search(r"[\d_./+=-]", value)))


def _judge_auth_header(m: re.Match[str]) -> str | None:
    value = m["secret"]
    if _is_placeholder(value):
        return None
    if m["sigscheme"]:
        return "authorization"
    scheme = (m["scheme"] or "").lower()
    if scheme:
        return _TOKEN_SCHEMES.get(scheme, "authorization")
    # No scheme: only something token-like, so "authorization: denied" stays a sentence.
    if value.lower() in _SCHEME_WORDS:
        return None
    return "authorization" if _token_like(value) else None


def _judge_user_flag(m: re.Match[str]) -> str | None:
    # `docker run -u 1000:1000` is a uid:gid, not curl's user:password.
    if _is_placeholder(m["secret"]) or (m["user"].isdigit() and m["secret"].isdigit()):
        return None
    return "basic-auth"


def _judge_named(name_group: str) -> Callable[[re.Match[str]], str | None]:
    def judge(m: re.Match[str]) -> str | None:
        name = m[name_group]
        if _is_placeholder(m["secret"]) or not _names_secret(name):
            return None
        return _kind_for_name(name)

    return judge


def _counting_word_before(m: re.Match[str]) -> bool:
    # "time to first token: 1.2 s" - a bare `token` right after a counting word is prose.
    before = re.search(r"([A-Za-z]+)[ \t]+$", m.string[max(0, m.start() - 40) : m.start()])
    return bool(before) and before.group(1).lower() in _COUNTING


def _judge_kv(m: re.Match[str]) -> str | None:
    key = m["key"]
    value = m["secret"]
    if _is_placeholder(value) or not _names_secret(key):
        return None
    if value.lower() in _COUNTING:
        # Not a credential, and the word the next key's counting check reads: redacting
        # `first` in `x_token=first token: ...` would change that check on a second pass.
        return None
    if key.lower().endswith("authorization"):
        return None  # the header rule owns it, scheme word included
    if len(_segments(key)) == 1:
        if _counting_word_before(m):
            return None
        # `Token: expired` or "the session: no retry" in a sentence: a bare word and a
        # colon is prose unless the value looks like a credential. Passwords are exempt
        # (`password: changeme` is exactly the one to catch), and so are quoted keys and
        # `=`, which only structured text (JSON, logfmt, env) writes.
        # A bare `session` is the weakest name of all (`?session=42` numbers a session),
        # and a session id is always long and random.
        prose = (not m["kq"] and m["sep"] == ":") or key.lower() == "session"
        if prose and not re.search(r"pass|pwd", key, re.I) and not _token_like(value):
            return None
    if key in ("PWD", "OLDPWD") and value.startswith(("/", "~")):
        return None  # the shell's working directory in an env dump
    if m.string.startswith("(", m.end()):
        return None  # `token = self._bearer_token()`: a call in a traceback's code line
    if key == _REPORT_KEY_ID and not _high_entropy(value):
        return None  # a tenant's key id, as the report lists it (see redact_json)
    return _kind_for_name(key)


def _rule(pattern: str, judge: Callable[[re.Match[str]], str | None], flags: int = 0) -> _Rule:
    return _Rule(re.compile(pattern, flags | re.X), judge)


# Order matters: shapes first, so the kind names the most specific thing known (a GitHub
# token in a URL reads `github-token`, not `url-credentials`); names last, and they skip
# values an earlier rule already replaced.
_RULES: tuple[_Rule, ...] = (
    # PEM private keys, redacted whole. Without an END line (a truncated paste), the block
    # runs over following lines that are pure base64, never into prose. The body stops at
    # the next `-----`, so a run of BEGIN lines without END costs one scan, not one each.
    _rule(
        r"""(?P<secret>-----BEGIN[ ][A-Z0-9 ]*PRIVATE[ ]KEY[A-Z ]*-----
            (?: (?:(?!-----)[\s\S])*-----END[A-Z0-9 ]*-----
              | (?:(?:\r?\n|\\n)[A-Za-z0-9+/=]{16,})* ))""",
        _const("private-key"),
    ),
    # Vendor tokens, by prefix.
    _rule(r"(?P<secret>\bsk-ant-[a-z]+\d*-[\w-]{20,})", _const("anthropic-key"), re.A),
    _rule(r"(?P<secret>\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})", _const("stripe-key")),
    _rule(r"(?P<secret>\bwhsec_[A-Za-z0-9+/=]{20,})", _const("stripe-key")),
    # OpenAI-style keys (and the many gateways that copy them: LiteLLM, vLLM --api-key).
    _rule(r"(?P<secret>\bsk-[\w-]{20,})", _with_digit("api-key"), re.A),
    _rule(
        r"(?P<secret>\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}))",
        _const("github-token"),
        re.A,
    ),
    _rule(r"(?P<secret>\bgl(?:pat|dt|rt|ptt|cbt|soat)-[\w-]{20,})", _const("gitlab-token"), re.A),
    _rule(
        r"(?P<secret>\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}))",
        _const("slack-token"),
    ),
    _rule(r"(?P<secret>\b(?:AKIA|ASIA)[A-Z0-9]{16}\b)", _const("aws-key")),
    _rule(r"(?P<secret>\bAIza[\w-]{35})(?![\w-])", _const("google-api-key"), re.A),
    _rule(r"(?P<secret>\bhf_[A-Za-z0-9]{30,})", _const("hf-token")),
    _rule(r"(?P<secret>\bhv[sbr]\.[\w-]{24,})", _const("vault-token"), re.A),
    _rule(r"(?P<secret>\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*)", _jwt_kind, re.A),
    # Webhook URLs are credentials in their path; the host stays to say which service.
    _rule(
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[\w/-]+)",
        _const("slack-webhook"),
        re.A,
    ),
    _rule(
        r"https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/(?P<secret>\d+/[\w-]+)",
        _const("discord-webhook"),
        re.A,
    ),
    # Kubeconfig and Kubernetes Secret data keys.
    _rule(
        rf"""(?<![\w.-])(?P<kq>["']?)
            (?P<key>{"|".join(re.escape(k) for k in _KUBE_KEYS)})
            (?P=kq)[ \t]*:[ \t]*["']?(?P<secret>{_VALUE})""",
        _judge_named("key"),
        re.I,
    ),
    # A container env entry: `- name: DB_PASSWORD` then `value: ...` (YAML, flow or JSON).
    _rule(
        rf"""(?<![\w-])["']?name["']?[ \t]*:[ \t]*["']?(?P<name>[\w.-]+)["']?[ \t]*
            (?:,|\r?\n)[ \t]*(?:-[ \t]+)?["']?value["']?[ \t]*:[ \t]*["']?(?P<secret>{_VALUE})""",
        _judge_named("name"),
    ),
    # HTTP Authorization (and Proxy-, X-...): keep the scheme, replace the credential. The
    # signature schemes carry several parameters, all of them replaced.
    _rule(
        r"""(?<![\w.-])["']?[\w.-]*authorization["']?[ \t]*[:=][ \t]*["']?
            (?: (?P<sigscheme>aws4-hmac-sha256|digest|negotiate|ntlm|hmac-sha256)[ \t]+
              | (?P<scheme>bearer|basic|token|bot|apikey|ssws|splunk)[ \t]+ )?
            (?P<secret>(?(sigscheme)[^"'`\n]*[^\s"'`]
                        |(?(scheme)[\w.~+/-]+=*|[^\s"'`|,;()<>\[\]{}]+)))""",
        _judge_auth_header,
        re.I,
    ),
    # Cookie headers: the whole cookie string, every pair of it.
    _rule(
        r"""(?<![\w.-])["']?(?:set-)?cookie["']?[ \t]*:[ \t]*["']?
            (?P<secret>[^\r\n"'`|]*[^\s"'`|])""",
        _unless_placeholder("cookie"),
        re.I,
    ),
    # A bearer token outside a header ("retrying with Bearer ..."); it must look like one.
    _rule(
        r"(?<![\w-])(?i:bearer)[ \t]+(?P<secret>(?=[\w.~+/-]*\d)[\w.~+/-]{16,}=*)",
        _const("bearer"),
    ),
    # curl -u / --user user:password: the user names the account and stays.
    _rule(
        r"""(?<![\w-])(?:-u|-U|--user|--proxy-user)(?:[ \t]+|=)["']?
            (?P<user>[^\s:"'`]*):(?P<secret>[^\s"'`]+)""",
        _judge_user_flag,
    ),
    # Command-line flags: --password x, --token=x, --api-key x.
    _rule(
        rf"""(?<![\w-])--(?P<flag>[\w-]*?{_SECRET_WORD})(?:[ \t]+|=)["']?
            (?P<secret>(?!-)[^\s"'`]+)""",
        _judge_named("flag"),
        re.I,
    ),
    # scheme://user:password@host. The user stays: it names the role that connected (the
    # thing an SRE checks in the database's grants), and alone it grants nothing; the
    # password is what has to go.
    _rule(
        r"""\b[a-z][a-z0-9+.-]{0,31}://[^\s:@/?#\[\]"'`<>]*:
            (?P<secret>[^\s@/?#\[\]"'`<>]+)@""",
        _unless_placeholder("url-credentials"),
        re.I,
    ),
    # Credentials in a URL's query or fragment. Always redacted, `api_key` included: a key
    # in a URL is the credential itself, not the report's identifier.
    _rule(
        r"""[?&;#](?P<key>access_token|refresh_token|id_token|auth_token|api[_-]?key|token
            |key|password|passwd|pwd|secret|client_secret|sig|signature|x-amz-signature
            |x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential)
            =(?P<secret>[^&;\s#"'`<>()\[\]]+)""",
        lambda m: None if _is_placeholder(m["secret"]) else _query_kind(m["key"]),
        re.I,
    ),
    # .netrc: `machine h login u password p`, on one line or several.
    _rule(
        r"""\b(?:machine\s+\S+|default)(?:\s+(?:login|account|port|protocol)\s+\S+)*
            \s+password\s+(?P<secret>[^\s"'`]+)""",
        _unless_placeholder("password"),
    ),
    # name=value, name: value, "name": "value", name => value, **name**: value.
    _rule(
        rf"""(?<![\w.-])(?P<kq>["']?)(?P<key>[\w.-]*?{_SECRET_WORD})(?P=kq)
            \*{{0,2}}[ \t]*(?P<sep>=>|:=|:|=(?!=))\*{{0,2}}[ \t]*["']?(?P<secret>{_VALUE})""",
        _judge_kv,
        re.I,
    ),
)


def _query_kind(key: str) -> str:
    key = key.lower()
    if key in ("sig", "signature") or "signature" in key:
        return "signature"
    if key == "key":
        return "api-key"
    return _kind_for_name(key)


_AUTH_PROVIDER = re.compile(r"^(?P<indent>[ \t]*(?:-[ \t]+)?)auth-provider:[ \t]*$")
_YAML_PAIR = re.compile(
    r"""^(?P<pre>[ \t]*(?:-[ \t]+)?(?P<key>[\w.-]+)[ \t]*:[ \t]+(?P<q>["']?))
        (?P<value>.*?)(?P=q)[ \t]*$""",
    re.X,
)


def _redact_auth_provider(text: str) -> str:
    """Every value under a kubeconfig ``auth-provider:`` but the plugin's name.

    Auth-provider config is plugin-defined (oidc, gcp, azure...), so unknown keys can hold
    credentials; redacting the whole block costs only an expiry and a command path.
    """
    if "auth-provider:" not in text:
        return text
    out: list[str] = []
    block: int | None = None  # the column of `auth-provider:` while inside its block
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        indent = len(body) - len(body.lstrip(" \t"))
        if block is not None and body.strip() and indent <= block:
            block = None
        if block is not None:
            m = _YAML_PAIR.match(body)
            if m and m["key"] != "name" and not _is_placeholder(m["value"]):
                ending = line[len(body) :]
                line = m["pre"] + _marker("kubeconfig", m["value"]) + body[m.end("value") :]
                line += ending
            out.append(line)
            continue
        start = _AUTH_PROVIDER.match(body)
        if start:
            block = len(start["indent"])
        out.append(line)
    return "".join(out)


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted <kind> <fp>]``; idempotent."""
    text = _apply(_RULES[0], text)  # a PEM body first: no other rule should see into it
    text = _redact_auth_provider(text)
    for rule in _RULES[1:]:
        text = _apply(rule, text)
    return text


def redact_json(value: object) -> object:
    """A redacted copy of a JSON-like value (dicts, lists, tuples, strings); the input is
    never changed.

    Every string goes through `redact`. A value under a secret-naming key (``password``,
    ``token``, ``Authorization``, ``client_secret``, kubeconfig data keys...) is replaced
    whole, whatever its type; ``None`` and ``""`` stay, as there is nothing to hide and
    "no token was sent" is evidence. An ``Authorization``-style ``"Bearer <token>"`` keeps
    its scheme word, and the marker fingerprints the token alone, so it matches the same
    token found in a log line.

    The exception is the key ``api_key``: the report lists rate-limited keys by their
    *identifier* there (``key_177149``, ``tenant-acme``, a hex digest), the tenant's name
    the on-call needs. Such a value stays readable unless it looks like a real secret by
    itself: a vendor-shaped key (``sk-live-...``, ``sk-proj-...``, ``AKIA...``), or 32+
    characters of mixed-case letters and digits dense enough to be random. Single-case hex
    never counts, since that is how key ids are hashed. The same rule applies to
    ``api_key=...`` in free text, but not to ``?api_key=`` in a URL, which is always the
    credential.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return _redact_dict(value)
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_json(v) for v in value)
    return value


def _redact_dict(d: dict[object, object]) -> dict[object, object]:
    # A container env entry {"name": "DB_PASSWORD", "value": ...}: the secret-naming name
    # sits beside the value, not above it.
    env_name = d.get("name")
    env_kind = (
        _kind_for_name(env_name)
        if isinstance(env_name, str) and "value" in d and _names_secret(env_name)
        else None
    )
    out: dict[object, object] = {}
    for k, v in d.items():
        key = redact(k) if isinstance(k, str) else k
        if not isinstance(k, str):
            out[key] = redact_json(v)
        elif k == "value" and env_kind:
            out[key] = _redact_whole(v, env_kind)
        elif k == _REPORT_KEY_ID:
            out[key] = _redact_key_id(v)
        elif k == "auth-provider" and isinstance(v, dict):
            out[key] = {
                ak: (
                    {ck: _redact_whole(cv, "kubeconfig") for ck, cv in av.items()}
                    if ak == "config" and isinstance(av, dict)
                    else redact_json(av)
                )
                for ak, av in v.items()
            }
        elif k in ("PWD", "OLDPWD") and isinstance(v, str) and v.startswith(("/", "~")):
            out[key] = redact_json(v)
        elif _names_secret(k):
            out[key] = _redact_whole(v, _kind_for_name(k))
        else:
            out[key] = redact_json(v)
    return out


def _redact_key_id(value: object) -> object:
    if not isinstance(value, str):
        return redact_json(value)
    redacted = redact(value)
    if redacted != value:
        return redacted  # a vendor-shaped secret, fingerprinted as it is in free text
    return _marker("api-key", value) if _high_entropy(value) else value


def _only_markers(text: str) -> bool:
    """Nothing left to hide: markers, maybe with the scheme word that preceded a token."""
    return _MARKER.sub("", text).strip(" \t\"'").lower() in {"", *_SCHEME_WORDS}


def _redact_whole(value: object, kind: str) -> object:
    if value is None or value == "":
        return value
    if isinstance(value, str):
        if _is_placeholder(value) or _only_markers(value):
            return value
        scheme = re.fullmatch(r"(?i)(bearer|basic|token|bot|apikey)[ \t]+(\S+)", value.strip())
        if scheme:
            word = scheme.group(1)
            inner = _TOKEN_SCHEMES.get(word.lower(), kind)
            return f"{word} {_marker(inner, scheme.group(2))}"
        shaped = redact(value)
        # A value the shape rules consume entirely keeps their kind (`github-token` under a
        # key named `token`), with the same fingerprint the bare value would get.
        return shaped if _only_markers(shaped) else _marker(kind, value)
    try:
        serial = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        serial = repr(value)
    return _marker(kind, serial)
