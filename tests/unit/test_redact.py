"""Secrets out of incident reports: every credential shape the on-call pastes (headers,
curl, env dumps, URLs, kubeconfigs, PEM keys, vendor tokens) is replaced by a marker, and
what the report is for (models, pods, GPUs, nodes, PromQL, key ids) reads as it was.

Fake secrets are generated from a fixed seed, and vendor prefixes are joined at run time,
so this file holds no string a secret scanner would flag, and none of these are real.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tui.domain.redact import redact, redact_json

_RNG = random.Random(20240611)
B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
URLSAFE = B62 + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
MARKER = re.compile(r"\[redacted ([a-z0-9-]+) ([0-9a-f]{6})\]")


def fake(n: int, alphabet: str = B62) -> str:
    """Random characters, always with a digit: real tokens have them, and so must a fake."""
    while True:
        s = "".join(_RNG.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in s) or not any(c.isdigit() for c in alphabet):
            return s


def join(*parts: str) -> str:
    return "".join(parts)


def b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(claims: dict[str, object]) -> str:
    return ".".join([b64url({"alg": "RS256", "kid": fake(12)}), b64url(claims), fake(86, URLSAFE)])


def pem(label: str, lines: int = 6) -> str:
    body = "\n".join(fake(64, B64) for _ in range(lines))
    begin = join("-----BEGIN ", label, " PRIVATE", " KEY-----")
    end = join("-----END ", label, " PRIVATE", " KEY-----")
    return f"{begin}\n{body}\n{end}"


def fp(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:6]


def marker(kind: str, secret: str) -> str:
    return f"[redacted {kind} {fp(secret)}]"


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    secrets: tuple[str, ...]
    kind: str
    keep: tuple[str, ...]


def case(id: str, template: str, kind: str, keep: tuple[str, ...], **secrets: str) -> Case:
    return Case(id, template.format(**secrets), tuple(secrets.values()), kind, keep)


BEARER = fake(43, URLSAFE)
SA_TOKEN = jwt(
    {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "inference",
        "sub": "system:serviceaccount:inference:warroom",
    }
)
USER_JWT = jwt({"iss": "https://sso.acme.example", "sub": "oncall@acme.example", "exp": 1718076847})
SA_PEM = pem("RSA")

CASES: list[Case] = [
    case(
        "authorization-bearer-curl",
        "curl -sS -H 'Authorization: Bearer {t}' https://gateway.prod.internal/v1/models",
        "bearer",
        ("curl -sS -H 'Authorization: Bearer ", "' https://gateway.prod.internal/v1/models"),
        t=BEARER,
    ),
    case(
        "authorization-basic-curl-verbose",
        "> GET /api/v1/query HTTP/1.1\n> Authorization: Basic {b}\n> User-Agent: warroom/0.1.0",
        "basic-auth",
        ("> Authorization: Basic ", "> User-Agent: warroom/0.1.0", "> GET /api/v1/query"),
        b=b64("grafana-reader:" + fake(18)),
    ),
    case(
        "proxy-authorization-basic",
        "Proxy-Authorization: Basic {b}\r\nHost: api.vendor.example",
        "basic-auth",
        ("Proxy-Authorization: Basic ", "Host: api.vendor.example"),
        b=b64("egress:" + fake(16)),
    ),
    case(
        "authorization-in-json-text",
        '{{"headers": {{"Authorization": "Bearer {t}", "Content-Type": "application/json"}}}}',
        "bearer",
        ('"Authorization": "Bearer ', '"Content-Type": "application/json"'),
        t=fake(40, URLSAFE),
    ),
    case(
        "bearer-in-log-message",
        "retrying upstream with Bearer {t} after 401 from llama-70b-route",
        "bearer",
        ("retrying upstream with Bearer ", " after 401 from llama-70b-route"),
        t=fake(32, URLSAFE),
    ),
    case(
        "curl-user-password",
        "curl -u grafana-reader:{pw} https://prometheus.monitoring.svc:9090/api/v1/targets",
        "basic-auth",
        ("curl -u grafana-reader:", " https://prometheus.monitoring.svc:9090/api/v1/targets"),
        pw=fake(20),
    ),
    case(
        "jwt-in-logfmt",
        'level=warn msg="upstream 401" jwt={j} route=llama-70b-route',
        "jwt",
        ('level=warn msg="upstream 401" jwt=', " route=llama-70b-route"),
        j=USER_JWT,
    ),
    case(
        "k8s-service-account-token",
        "kubectl --server https://10.0.0.1:6443 --token {t} get pods -n inference",
        "k8s-token",
        ("kubectl --server https://10.0.0.1:6443 --token ", " get pods -n inference"),
        t=SA_TOKEN,
    ),
    case(
        "openai-project-key-env",
        "OPENAI_API_KEY={k}\nOPENAI_BASE_URL=https://api.openai.com/v1",
        "api-key",
        ("OPENAI_API_KEY=", "OPENAI_BASE_URL=https://api.openai.com/v1"),
        k=join("sk", "-proj-", fake(48, URLSAFE)),
    ),
    case(
        "sk-live-key-in-log",
        "provider 401 for key {k}: invalid api key (tenant-acme)",
        "api-key",
        ("provider 401 for key ", ": invalid api key (tenant-acme)"),
        k=join("sk", "-live-", fake(32)),
    ),
    case(
        "anthropic-key-header",
        "x-api-key: {k}\nanthropic-version: 2023-06-01",
        "anthropic-key",
        ("x-api-key: ", "anthropic-version: 2023-06-01"),
        k=join("sk", "-ant-", "api03-", fake(93, URLSAFE), "AA"),
    ),
    case(
        "github-classic-token-in-clone-url",
        "git clone https://{t}@github.com/acme/inference-gateway.git",
        "github-token",
        ("git clone https://", "@github.com/acme/inference-gateway.git"),
        t=join("gh", "p_", fake(36)),
    ),
    case(
        "github-oauth-token-hosts-yml",
        "github.com:\n    oauth_token: {t}\n    user: oncall-bot\n    git_protocol: https",
        "github-token",
        ("oauth_token: ", "user: oncall-bot", "git_protocol: https"),
        t=join("gh", "o_", fake(36)),
    ),
    case(
        "github-fine-grained-pat",
        'curl -H "Authorization: token {t}" https://api.github.com/repos/acme/warroom',
        "github-token",
        ('-H "Authorization: token ', '" https://api.github.com/repos/acme/warroom'),
        t=join("github", "_pat_", fake(22), "_", fake(59)),
    ),
    case(
        "gitlab-pat-header",
        'curl --header "PRIVATE-TOKEN: {t}" https://gitlab.internal/api/v4/projects',
        "gitlab-token",
        ('curl --header "PRIVATE-TOKEN: ', '" https://gitlab.internal/api/v4/projects'),
        t=join("gl", "pat-", fake(20, URLSAFE)),
    ),
    case(
        "slack-bot-token-env",
        "SLACK_BOT_TOKEN={t} SLACK_CHANNEL=#inc-llm-platform",
        "slack-token",
        ("SLACK_BOT_TOKEN=", " SLACK_CHANNEL=#inc-llm-platform"),
        t=join("xo", "xb-", fake(12, string.digits), "-", fake(13, string.digits), "-", fake(24)),
    ),
    case(
        "slack-user-token-in-error",
        "chat.postMessage failed for {t}: not_in_channel",
        "slack-token",
        ("chat.postMessage failed for ", ": not_in_channel"),
        t=join("xo", "xp-", fake(12, string.digits), "-", fake(12, string.digits), "-", fake(32)),
    ),
    case(
        "slack-webhook-alertmanager",
        join("slack_configs:\n  - api_url: https://hooks.", "slack.com/services/{path}\n")
        + "    channel: '#inc-llm'",
        "slack-webhook",
        ("api_url: https://hooks.slack.com/services/", "channel: '#inc-llm'"),
        path=join("T0", fake(8, UPPER_DIGITS), "/B0", fake(8, UPPER_DIGITS), "/", fake(24)),
    ),
    case(
        "aws-access-key-id-credentials-file",
        "[default]\naws_access_key_id = {k}\nregion = us-west-2",
        "aws-key",
        ("[default]\naws_access_key_id = ", "\nregion = us-west-2"),
        k=join("AK", "IA", fake(16, UPPER_DIGITS)),
    ),
    case(
        "aws-sts-key-id-env",
        "export AWS_ACCESS_KEY_ID={k}\nexport AWS_REGION=us-east-1",
        "aws-key",
        ("export AWS_ACCESS_KEY_ID=", "export AWS_REGION=us-east-1"),
        k=join("AS", "IA", fake(16, UPPER_DIGITS)),
    ),
    case(
        "aws-secret-access-key",
        "aws_secret_access_key = {s}\noutput = json",
        "aws-key",
        ("aws_secret_access_key = ", "output = json"),
        s=fake(40, B64),
    ),
    case(
        "google-api-key-query",
        "POST https://generativelanguage.googleapis.com/v1beta/models:generate?key={k} 429",
        "google-api-key",
        ("https://generativelanguage.googleapis.com/v1beta/models:generate?key=", " 429"),
        k=join("AI", "za", fake(35, URLSAFE)),
    ),
    case(
        "hugging-face-token-vllm-args",
        "vllm serve meta-llama/Llama-3.1-70B-Instruct --hf-token {t} --tensor-parallel-size 8",
        "hf-token",
        ("vllm serve meta-llama/Llama-3.1-70B-Instruct --hf-token ", " --tensor-parallel-size 8"),
        t=join("hf", "_", fake(34)),
    ),
    case(
        "stripe-secret-key",
        "billing webhook retry with {k} failed: 401",
        "stripe-key",
        ("billing webhook retry with ", " failed: 401"),
        k=join("sk", "_live_", fake(24)),
    ),
    case(
        "stripe-restricted-key",
        "STRIPE_RESTRICTED_KEY={k}",
        "stripe-key",
        ("STRIPE_RESTRICTED_KEY=",),
        k=join("rk", "_live_", fake(24)),
    ),
    case(
        "pem-rsa-private-key",
        "tls.key from the mounted secret:\n{k}\nend of paste, cert was fine",
        "private-key",
        ("tls.key from the mounted secret:\n", "\nend of paste, cert was fine"),
        k=SA_PEM,
    ),
    case(
        "pem-openssh-private-key",
        "~/.ssh/id_ed25519 on the bastion:\n{k}\n",
        "private-key",
        ("~/.ssh/id_ed25519 on the bastion:\n",),
        k=pem("OPENSSH", 4),
    ),
    case(
        "pem-truncated-in-json-log",
        '{{"msg": "loaded key", "key": "{k}"}} next line',
        "private-key",
        ('{"msg": "loaded key", "key": "', " next line"),
        k=join("-----BEGIN ", "PRIVATE KEY-----\\n", fake(64, B64), "\\n", fake(64, B64)),
    ),
    case(
        "kubeconfig-client-key-data",
        "users:\n- name: oncall\n  user:\n    client-key-data: {d}\n",
        "kubeconfig",
        ("users:\n- name: oncall\n  user:\n    client-key-data: ",),
        d=b64(SA_PEM),
    ),
    case(
        "dockerconfigjson-secret",
        "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {d}\n",
        "docker-config",
        ("type: kubernetes.io/dockerconfigjson", ".dockerconfigjson: "),
        d=b64(json.dumps({"auths": {"registry.internal": {"auth": b64("ci:" + fake(20))}}})),
    ),
    case(
        "url-credentials-registry",
        "Error: pull https://deploy-bot:{pw}@registry.internal/v2/vllm/manifests/v0.6.3: 401",
        "url-credentials",
        ("Error: pull https://deploy-bot:", "@registry.internal/v2/vllm/manifests/v0.6.3: 401"),
        pw=fake(16),
    ),
    case(
        "postgres-connection-string",
        "DATABASE_URL=postgres://gateway_rw:{pw}@pg-primary.db.svc:5432/gateway?sslmode=require",
        "url-credentials",
        ("DATABASE_URL=postgres://gateway_rw:", "@pg-primary.db.svc:5432/gateway?sslmode=require"),
        pw=fake(24),
    ),
    case(
        "redis-password-only",
        "RATELIMIT_REDIS=redis://:{pw}@redis-ratelimit-master:6379/0",
        "url-credentials",
        ("RATELIMIT_REDIS=redis://:", "@redis-ratelimit-master:6379/0"),
        pw=fake(20),
    ),
    case(
        "mysql-connection-string",
        "mysql://root:{pw}@mysql-0.mysql.billing:3306/usage",
        "url-credentials",
        ("mysql://root:", "@mysql-0.mysql.billing:3306/usage"),
        pw=fake(12),
    ),
    case(
        "access-token-query",
        "GET /api/v1/stream?model=llama-3.1-70b-instruct&access_token={t} 200 1.2s",
        "token",
        ("GET /api/v1/stream?model=llama-3.1-70b-instruct&access_token=", " 200 1.2s"),
        t=fake(32),
    ),
    case(
        "api-key-query",
        "https://api.vendor.example/v2/complete?stream=true&api_key={k}&n=1",
        "api-key",
        ("https://api.vendor.example/v2/complete?stream=true&api_key=", "&n=1"),
        k=fake(32),
    ),
    case(
        "token-query-markdown-code",
        "Reproduce with `wscat -c wss://gateway.prod.internal/v1/realtime?session=42&token={t}`.",
        "token",
        ("`wscat -c wss://gateway.prod.internal/v1/realtime?session=42&token=", "`."),
        t=fake(28),
    ),
    case(
        "netrc-multiline",
        "machine artifactory.internal\n  login ci-bot\n  password {pw}\n",
        "password",
        ("machine artifactory.internal\n  login ci-bot\n  password ",),
        pw=fake(18),
    ),
    case(
        "netrc-one-line",
        "machine api.github.com login oncall-bot password {pw}",
        "password",
        ("machine api.github.com login oncall-bot password ",),
        pw=fake(18),
    ),
    case(
        "prometheus-bearer-token-env",
        "PROMETHEUS_URL=http://prometheus:9090 PROMETHEUS_BEARER_TOKEN={t}",
        "token",
        ("PROMETHEUS_URL=http://prometheus:9090 PROMETHEUS_BEARER_TOKEN=",),
        t=fake(40),
    ),
    case(
        "yaml-password",
        "basic_auth:\n  username: grafana\n  password: {pw}\n",
        "password",
        ("basic_auth:\n  username: grafana\n  password: ",),
        pw="hunter2-" + fake(6),
    ),
    case(
        "json-token",
        '{{"token": "{t}", "expires_in": 3600, "token_type": "Bearer"}}',
        "token",
        ('{"token": "', '"expires_in": 3600', '"token_type": "Bearer"'),
        t=fake(36),
    ),
    case(
        "oauth-client-secret-logfmt",
        "client_id=warroom client_secret={s} grant_type=client_credentials",
        "secret",
        ("client_id=warroom client_secret=", " grant_type=client_credentials"),
        s=fake(32),
    ),
    case(
        "cookie-header",
        "Cookie: session={s}; csrftoken={c}\nAccept: */*",
        "cookie",
        ("Cookie: ", "Accept: */*"),
        s=fake(32),
        c=fake(32),
    ),
    case(
        "set-cookie-header",
        "< Set-Cookie: __Host-session={s}; Path=/; Secure; HttpOnly\n< Content-Length: 0",
        "cookie",
        ("< Set-Cookie: ", "< Content-Length: 0"),
        s=fake(40),
    ),
    case(
        "helm-password-flag",
        "helm repo add internal https://charts.internal --username ci --password {pw}",
        "password",
        ("helm repo add internal https://charts.internal --username ci --password ",),
        pw=fake(20),
    ),
    case(
        "kubectl-token-flag",
        "kubectl --token={t} get nodes -l nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3",
        "token",
        ("kubectl --token=", " get nodes -l nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3"),
        t=fake(32),
    ),
    case(
        "container-env-password",
        'env:\n  - name: DB_PASSWORD\n    value: "{pw}"\n  - name: LOG_LEVEL\n    value: info',
        "password",
        ('- name: DB_PASSWORD\n    value: "', "- name: LOG_LEVEL\n    value: info"),
        pw=fake(20),
    ),
    case(
        "x-api-key-header",
        "X-Api-Key: {k}\nX-Request-Id: 8a1f2c3d-4b5e-4f60-8a7b-9c0d1e2f3a4b",
        "api-key",
        ("X-Api-Key: ", "X-Request-Id: 8a1f2c3d-4b5e-4f60-8a7b-9c0d1e2f3a4b"),
        k=fake(32),
    ),
    case(
        "prometheus-scrape-credentials",
        "authorization:\n  type: Bearer\n  credentials: {t}\nscrape_interval: 15s",
        "credentials",
        ("authorization:\n  type: Bearer\n  credentials: ", "scrape_interval: 15s"),
        t=fake(40),
    ),
    case(
        "session-id-logfmt",
        "session_id={s} user=alice route=/v1/chat/completions",
        "session",
        ("session_id=", " user=alice route=/v1/chat/completions"),
        s=fake(32, HEX),
    ),
    case(
        "vault-token-env",
        "VAULT_ADDR=https://vault.internal:8200 VAULT_TOKEN={t}",
        "vault-token",
        ("VAULT_ADDR=https://vault.internal:8200 VAULT_TOKEN=",),
        t=join("hv", "s.", fake(90, URLSAFE)),
    ),
    case(
        "aws-sigv4-authorization",
        "Authorization: AWS4-HMAC-SHA256 Credential={k}/20240611/us-west-2/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature={sig}\nx-amz-date: 20240611T031407Z",
        "authorization",
        ("Authorization: AWS4-HMAC-SHA256 ", "x-amz-date: 20240611T031407Z"),
        k=join("AK", "IA", fake(16, UPPER_DIGITS)),
        sig=fake(64, HEX),
    ),
    case(
        "report-api-key-that-is-a-real-key",
        "api_key={k} rate=12.5/s",
        "api-key",
        ("api_key=", " rate=12.5/s"),
        k=join("sk", "-", fake(40)),
    ),
    case(
        "report-api-key-high-entropy",
        "api_key: {k}\nrate: 12.5",
        "api-key",
        ("api_key: ", "rate: 12.5"),
        k=fake(40),
    ),
    case(
        "odbc-connection-string",
        "Driver={{ODBC Driver 18}};Server=tcp:sql.internal,1433;Uid=reporter;Pwd={pw};Encrypt=yes",
        "password",
        ("Server=tcp:sql.internal,1433;Uid=reporter;Pwd=", ";Encrypt=yes"),
        pw=fake(16),
    ),
]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_secret_is_redacted_and_context_kept(c: Case) -> None:
    out = redact(c.text)
    for secret in c.secrets:
        assert secret not in out
    assert f"[redacted {c.kind} " in out
    for kept in c.keep:
        assert kept in out


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


MUST_KEEP = [
    "model llama-3.1-70b-instruct p99 latency 4.2 s, qwen2.5-72b-instruct healthy",
    "pod vllm-llama-3-1-70b-7d9f8b6c4-x2k9p OOMKilled, restarts 3",
    "GPU-5f1c8a3e-2b7d-4c11-9e0a-6d8f2a1b3c4e XID 79 on gpu-node-h100-17",
    "node ip-10-42-3-17.us-west-2.compute.internal NotReady since 2024-06-11T03:14:07Z",
    "window 2024-06-11T03:00:00+00:00 .. 2024-06-11T03:15:00.250Z",
    "key_177149 rejected 412/s (38% of 429s); tenant-acme next",
    "topk(5, sum by (api_key_id) "
    '(rate(gateway_ratelimit_rejections_total{api_key_id="key_177149"}[5m])))',
    "histogram_quantile(0.99, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket"
    '{model_name="llama-3.1-70b-instruct"}[5m])))',
    'sum(rate(vllm:generation_tokens_total{model_name="qwen2.5-72b-instruct"}[5m]))',
    "httproute/llama-70b-route weights 90/10; deployment/vllm-llama-3-1-70b-canary 2/2 ready",
    "time to first token p99 1.2 s",
    "Time to first token: 1.2 s",
    "tokens per second 1520, max_tokens=4096, prompt_tokens: 812, eos_token_id=128009",
    "Output token: 512 per request",
    "rotate the password for the read-only user before Friday",
    "Token: expired",
    "Refused for the session: no asking again",
    "Rolled out image v2.14.0 (commit 3f9a1c0b7e2d4a68c1f0e9b8a7d6c5b4a3f2e1d0) at 03:10Z",
    "image ghcr.io/acme/vllm"
    "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    'curl -H "Authorization: Bearer $TOKEN" https://gateway.prod.internal/v1/models',
    "Authorization header missing (401)",
    "(got Authorization: Basic ***)",
    "password: <redacted>",
    "token: ${PROMETHEUS_BEARER_TOKEN}",
    "client-key-data: DATA+OMITTED",
    "valueFrom:\n  secretKeyRef:\n    name: hf-token\n    key: token",
    "secretName: vllm-tls",
    "request_id=8a1f2c3d-4b5e-4f60-8a7b-9c0d1e2f3a4b trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "http://prometheus.monitoring.svc:9090/api/v1/query?query=up&time=1718075647",
    "PWD=/home/oncall SHELL=/bin/bash",
    "docker run -u 1000:1000 vllm/vllm-openai:v0.6.3",
    "tokenizer_mode=auto --max-num-batched-tokens 8192 --max-model-len 32768",
    "| api_key | rate | share |\n|---|---|---|\n| key_177149 | 41.2/s | 62% |",
    "assert top.api_key == expected.top_key",
    "token = self._bearer_token()",
]


@pytest.mark.parametrize("text", MUST_KEEP)
def test_report_content_is_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "path", sorted(Path(__file__).parents[2].joinpath("runbooks").glob("*.yaml")), ids=str
)
def test_runbooks_pass_through_unchanged(path: Path) -> None:
    # A report quotes runbook steps (PromQL, kubectl, psql); none holds a secret.
    text = path.read_text()
    assert redact(text) == text


OIDC_ID_TOKEN = jwt({"iss": "https://dex.acme.example", "sub": "oncall", "aud": "kubernetes"})
OIDC_REFRESH = fake(44, URLSAFE)
OIDC_CLIENT_SECRET = fake(32)
CA_DATA = b64(join("-----BEGIN CERTIFICATE-----\n", fake(64, B64), "\n-----END CERTIFICATE-----"))
CERT_DATA = b64(join("-----BEGIN CERTIFICATE-----\n", fake(64, B64), "\n-----END CERTIFICATE-----"))
KEY_DATA = b64(SA_PEM)
STATIC_TOKEN = fake(40)
USER_PASSWORD = fake(16)
VAULT_TOKEN = join("hv", "s.", fake(90, URLSAFE))

KUBECONFIG = f"""\
apiVersion: v1
kind: Config
clusters:
- name: gpu-prod-us-west-2
  cluster:
    server: https://A1B2C3D4E5.gr7.us-west-2.eks.amazonaws.com
    certificate-authority-data: {CA_DATA}
- name: gpu-staging
  cluster:
    server: https://10.20.0.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: prod-oncall
  context:
    cluster: gpu-prod-us-west-2
    namespace: inference
    user: oncall-cert
- name: staging-sa
  context:
    cluster: gpu-staging
    user: warroom-sa
current-context: prod-oncall
users:
- name: oncall-cert
  user:
    client-certificate-data: {CERT_DATA}
    client-key-data: {KEY_DATA}
- name: warroom-sa
  user:
    token: {SA_TOKEN}
- name: legacy-static
  user:
    token: {STATIC_TOKEN}
- name: break-glass
  user:
    username: admin
    password: {USER_PASSWORD}
- name: oidc-user
  user:
    auth-provider:
      name: oidc
      config:
        client-id: kubernetes
        client-secret: {OIDC_CLIENT_SECRET}
        id-token: {OIDC_ID_TOKEN}
        idp-issuer-url: https://dex.acme.example
        refresh-token: {OIDC_REFRESH}
- name: eks-exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, gpu-prod-us-west-2]
      env:
      - name: AWS_PROFILE
        value: gpu-prod
      - name: VAULT_TOKEN
        value: {VAULT_TOKEN}
"""
KUBECONFIG_SECRETS = (
    CA_DATA,
    CERT_DATA,
    KEY_DATA,
    SA_TOKEN,
    STATIC_TOKEN,
    USER_PASSWORD,
    OIDC_CLIENT_SECRET,
    OIDC_ID_TOKEN,
    OIDC_REFRESH,
    VAULT_TOKEN,
)


def test_kubeconfig_loses_every_credential_and_keeps_its_shape() -> None:
    out = redact(KUBECONFIG)
    for secret in KUBECONFIG_SECRETS:
        assert secret not in out
    # auth-provider config is plugin-defined, so all of it goes but the plugin's name.
    assert "https://dex.acme.example" not in out
    assert out.count("[redacted ") == len(KUBECONFIG_SECRETS) + 2  # + client-id, issuer

    doc = yaml.safe_load(out)
    clusters = {c["name"]: c["cluster"]["server"] for c in doc["clusters"]}
    assert clusters == {
        "gpu-prod-us-west-2": "https://A1B2C3D4E5.gr7.us-west-2.eks.amazonaws.com",
        "gpu-staging": "https://10.20.0.1:6443",
    }
    assert [c["name"] for c in doc["contexts"]] == ["prod-oncall", "staging-sa"]
    assert doc["contexts"][0]["context"]["namespace"] == "inference"
    assert doc["current-context"] == "prod-oncall"
    users = {u["name"]: u["user"] for u in doc["users"]}
    assert users["break-glass"]["username"] == "admin"
    assert users["oidc-user"]["auth-provider"]["name"] == "oidc"
    assert users["eks-exec"]["exec"]["command"] == "aws"
    assert users["eks-exec"]["exec"]["env"][0] == {"name": "AWS_PROFILE", "value": "gpu-prod"}
    assert "[redacted k8s-token " in out
    assert "[redacted kubeconfig " in out


def test_kubeconfig_as_json_object() -> None:
    config = {
        "users": [
            {
                "name": "oidc-user",
                "user": {
                    "client-key-data": KEY_DATA,
                    "auth-provider": {
                        "name": "oidc",
                        "config": {"id-token": OIDC_ID_TOKEN, "refresh-token": OIDC_REFRESH},
                    },
                },
            }
        ],
        "clusters": [{"name": "gpu-staging", "cluster": {"server": "https://10.20.0.1:6443"}}],
    }
    out = redact_json(config)
    text = json.dumps(out)
    for secret in (KEY_DATA, OIDC_ID_TOKEN, OIDC_REFRESH):
        assert secret not in text
    assert out["clusters"] == config["clusters"]  # type: ignore[index]
    assert out["users"][0]["user"]["auth-provider"]["name"] == "oidc"  # type: ignore[index]


REPORT_BEARER = fake(40, URLSAFE)
LOGGED_BEARER = fake(40, URLSAFE)
PROM_TOKEN = fake(40)
HASHED_KEY_ID = hashlib.sha256(b"tenant-globex/key-3").hexdigest()
LEAKED_KEY = join("sk", "-live-", fake(32))
RANDOM_KEY = fake(40)


def report() -> dict[str, object]:
    return {
        "incident": "INC-2024-0611",
        "generated_at": "2024-06-11T03:15:00Z",
        "model": "llama-3.1-70b-instruct",
        "rate_limited_keys": [
            {"api_key": "key_177149", "rate": 41.2, "share": 0.62},
            {"api_key": "tenant-acme", "rate": 12.0, "share": 0.18},
            {"api_key": HASHED_KEY_ID, "rate": 4.5, "share": 0.07},
            {"api_key": LEAKED_KEY, "rate": 3.1, "share": 0.05},
            {"api_key": RANDOM_KEY, "rate": 1.0, "share": 0.02},
            {"api_key": None, "rate": 0.4, "share": 0.01},
        ],
        "request": {
            "method": "POST",
            "url": "https://gateway.prod.internal/v1/chat/completions",
            "headers": {
                "Authorization": "Bearer " + REPORT_BEARER,
                "Content-Type": "application/json",
                "X-Request-Id": "8a1f2c3d-4b5e-4f60-8a7b-9c0d1e2f3a4b",
            },
        },
        "timeline": [
            {
                "at": "2024-06-11T03:14:07Z",
                "kind": "log",
                "detail": (
                    "pod vllm-llama-3-1-70b-7d9f8b6c4-x2k9p: POST /v1/chat/completions "
                    f"Authorization: Bearer {LOGGED_BEARER} -> 401 in 12ms"
                ),
            },
            {"at": "2024-06-11T03:14:30Z", "kind": "action", "detail": "drain gpu-node-h100-17"},
        ],
        "config": {
            "prometheus": {
                "url": "http://prometheus:9090",
                "bearer_token": PROM_TOKEN,
                "timeout_s": 5,
            },
            "password": None,
            "token": 12345678,
            "session": {"id": fake(32), "user": "oncall"},
        },
        "metrics": {
            "time_to_first_token_p99_s": 1.2,
            "max_tokens": 4096,
            "eos_token": "</s>",
            "tokens_per_second": 1520.0,
        },
        "gpus": ("GPU-5f1c8a3e-2b7d-4c11-9e0a-6d8f2a1b3c4e", "Bearer " + REPORT_BEARER),
    }


def test_json_report_redacts_secrets_and_keeps_key_ids() -> None:
    out = redact_json(report())
    assert isinstance(out, dict)
    keys = [k["api_key"] for k in out["rate_limited_keys"]]
    assert keys[:3] == ["key_177149", "tenant-acme", HASHED_KEY_ID]
    assert keys[3] == marker("api-key", LEAKED_KEY)
    assert keys[4] == marker("api-key", RANDOM_KEY)
    assert keys[5] is None

    headers = out["request"]["headers"]
    assert headers["Authorization"] == "Bearer " + marker("bearer", REPORT_BEARER)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Request-Id"] == "8a1f2c3d-4b5e-4f60-8a7b-9c0d1e2f3a4b"

    detail = out["timeline"][0]["detail"]
    assert LOGGED_BEARER not in detail
    assert detail.startswith("pod vllm-llama-3-1-70b-7d9f8b6c4-x2k9p: POST /v1/chat/completions")
    assert detail.endswith("-> 401 in 12ms")
    assert out["timeline"][1] == report()["timeline"][1]  # type: ignore[index]

    config = out["config"]
    assert config["prometheus"]["bearer_token"] == marker("token", PROM_TOKEN)
    assert config["prometheus"]["url"] == "http://prometheus:9090"
    assert config["prometheus"]["timeout_s"] == 5
    assert config["password"] is None  # nothing to hide, and "no password" is evidence
    assert MARKER.fullmatch(config["token"])  # non-string values go whole too
    assert MARKER.fullmatch(config["session"])
    assert out["metrics"] == report()["metrics"]

    assert isinstance(out["gpus"], tuple)
    assert out["gpus"][0] == "GPU-5f1c8a3e-2b7d-4c11-9e0a-6d8f2a1b3c4e"

    text = json.dumps(out)
    for secret in (REPORT_BEARER, LOGGED_BEARER, PROM_TOKEN, LEAKED_KEY, RANDOM_KEY):
        assert secret not in text


def test_redact_json_does_not_mutate_its_input() -> None:
    original = report()
    before = copy.deepcopy(original)
    out = redact_json(original)
    assert original == before
    assert out is not original
    assert out["request"] is not original["request"]  # type: ignore[index]


def test_same_secret_same_marker_wherever_it_appears() -> None:
    token = fake(40, URLSAFE)
    places = [
        redact(f"Authorization: Bearer {token}"),
        redact(f"GET /v1/models?access_token={token}"),
        redact(f'{{"token": "{token}"}}'),
        redact(f"PROMETHEUS_BEARER_TOKEN={token}"),
        str(redact_json({"headers": {"Authorization": f"Bearer {token}"}})),
    ]
    fingerprints = {m.group(2) for p in places for m in MARKER.finditer(p)}
    assert fingerprints == {fp(token)}


def test_different_secrets_get_different_markers() -> None:
    a, b = fake(40), fake(40)
    out = redact(f"password={a} and later password={b}")
    found = MARKER.findall(out)
    assert found == [("password", fp(a)), ("password", fp(b))]
    assert fp(a) != fp(b)


def test_marker_fingerprint_is_sha256_prefix() -> None:
    assert redact("password: hunter2") == f"password: [redacted password {fp('hunter2')}]"


IDEMPOTENCE = [c.text for c in CASES] + MUST_KEEP + [KUBECONFIG]


@pytest.mark.parametrize("text", IDEMPOTENCE)
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_redact_json_is_idempotent() -> None:
    once = redact_json(report())
    assert redact_json(once) == once
