"""The pre-commit hook (.pre-commit-hooks.yaml): which files it picks by default, and a real run in a repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from tests.helpers import REPO
from vevents_cli import samples

HOOK_ID = "vevents-validate"

# A web service with its tooling JSON, plus webhook fixtures laid out the ways the default pattern documents.
FIXTURES = {
    "test/fixtures/voucherify/voucher.published.json": "voucher.published",
    "test/fixtures/voucherify/customer.created.json": "customer.created",
    "e2e/redeem.webhook.json": "redemption.succeeded",
}
NOT_FIXTURES = {
    "package.json": '{"name": "shop", "version": "1.0.0", "private": true}\n',
    "package-lock.json": '{"name": "shop", "lockfileVersion": 3, "requires": true, "packages": {}}\n',
    "tsconfig.json": '{"compilerOptions": {"strict": true, "outDir": "dist"}}\n',
    "tsconfig.build.json": '{"extends": "./tsconfig.json", "exclude": ["test"]}\n',
    ".vscode/settings.json": '{"editor.formatOnSave": true}\n',
    "src/index.ts": "export const hello = (): string => 'world';\n",
    "src/webhooks/handler.ts": "export function handle(body: unknown): void {}\n",
    "src/webhooks/package.json": '{"name": "webhooks", "private": true}\n',
    "test/fixtures/api/customer.json": '{"id": "cust_1", "email": "a@example.com"}\n',
    "composer.json": '{"require": {"php": ">=8.2"}}\n',
}


def _hook() -> dict:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [hook for hook in hooks if hook["id"] == HOOK_ID]
    return hook


def _selected(path: str) -> bool:
    """What pre-commit does with files/exclude (re.search on the path relative to the repository root)."""
    hook = _hook()
    return bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)


@pytest.mark.parametrize(
    "path",
    [
        *FIXTURES,
        "webhooks/voucher.published.json",
        "tests/fixtures/webhook/redemption.ndjson",
        "fixtures/voucherify-2024/captured.jsonl.gz",
        "spec/Voucherify/Customer.Created.JSON",
        "data/order.voucherify.ndjson",
    ],
)
def test_default_pattern_selects_webhook_fixtures(path: str) -> None:
    assert _selected(path)


@pytest.mark.parametrize(
    "path",
    [
        *NOT_FIXTURES,
        "node_modules/voucherify/package.json",
        "node_modules/@voucherify/sdk/fixtures/webhooks/x.json",
        "vendor/voucherify/webhooks/sample.json",
        "webhooks/tsconfig.json",
        "webhooks/.vscode/settings.json",
        "webhooks/README.md",
        "src/webhooks.ts",
        "fixtures/order.json",
        "events/order.json",
    ],
)
def test_default_pattern_leaves_other_json_alone(path: str) -> None:
    assert not _selected(path)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _try_repo(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), HOOK_ID, "--all-files", "--verbose"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.heavy
def test_hook_in_a_realistic_repository(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    _git(project, "init", "-q", "-b", "main")
    _git(project, "config", "user.name", "Test")
    _git(project, "config", "user.email", "test@example.com")
    for name, text in NOT_FIXTURES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    for name, event_type in FIXTURES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(orjson.dumps(samples.sample(event_type), option=orjson.OPT_INDENT_2))
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "shop")
    home = tmp_path / "home"
    home.mkdir()
    # pre-commit's cache and git's global config in a scratch HOME; the hook's environment is installed from
    # this repository's path, its dependencies from the package index.
    env = {
        **os.environ,
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PRE_COMMIT", None)

    proc = _try_repo(project, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert f"{len(FIXTURES)} valid, 0 invalid, 0 unreadable" in output
    assert "cannot tell the event type" not in output

    broken = samples.sample("voucher.published")
    broken["data"]["voucher"]["code"] = 12345
    (project / "test/fixtures/voucherify/voucher.published.json").write_bytes(orjson.dumps(broken))
    _git(project, "add", "-A")
    proc = _try_repo(project, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert (
        "test/fixtures/voucherify/voucher.published.json:1:2256 voucher.published /data/voucher/code: "
        "expected string, got integer"
    ) in output
    assert f"{len(FIXTURES) - 1} valid, 1 invalid, 0 unreadable" in output
    for name in NOT_FIXTURES:
        assert name not in output
