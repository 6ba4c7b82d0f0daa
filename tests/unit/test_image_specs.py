"""Image layers without Docker: Dockerfile text, tag hashes, SWE-bench names, site options, locks, state."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from workers.errors import ImageBuildError
from workers.images import ImageOptions, build_chain, plan_images, pull_ref, swebench_image_name
from workers.images.build import LayerBuildError, _failure, _Progress
from workers.images.layers import SITE, base_plans
from workers.images.locks import ensure_once, tag_lock
from workers.images.options import proxy_buildargs, resolve_ca_bundle, resolve_pip
from workers.images.pull import split_ref
from workers.images.state import build_history, last_used, record_build, touch
from workers.models import Instance
from workers.spec import EnvSpec, RepoSource

BASE = "0" * 39 + "1"
ENV = "0" * 39 + "2"


@pytest.fixture
def bundle(tmp_path: Path) -> RepoSource:
    path = tmp_path / "calc.bundle"
    path.write_bytes(b"# v2 git bundle\nnot really one; only its digest matters here\n")
    return RepoSource(kind="bundle", location=str(path))


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ImageOptions:
    for var in ("PIP_CONFIG_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"):
        monkeypatch.delenv(var, raising=False)
    return ImageOptions(state_dir=tmp_path / "state", lock_dir=tmp_path / "locks", pip_from_host=False)


def instance(**kw: str) -> Instance:
    data = {
        "instance_id": "demo__calc-1",
        "repo": "demo/calc",
        "base_commit": BASE,
        "environment_setup_commit": ENV,
    }
    return Instance.model_validate({**data, **kw})


def spec(**kw: object) -> EnvSpec:
    data: dict[str, object] = {
        "repo": "demo/calc",
        "test_cmd": "pytest -rA",
        "system_packages": ["python3"],
        "pre_install": ["echo pre"],
        "pip_packages": ["six==1.16.0"],
        "install": ["echo 'multi\nline'"],
        "instance_setup": ["pip install -e ."],
    }
    return EnvSpec.model_validate({**data, **kw})


def tags(inst: Instance, sp: EnvSpec, src: RepoSource, opts: ImageOptions) -> dict[str, str]:
    return {p.layer: p.tag for p in build_chain(inst, sp, src, opts)}


def test_env_dockerfile_steps_in_order(bundle: RepoSource, options: ImageOptions) -> None:
    env = build_chain(instance(), spec(), bundle, options)[2]
    text = env.dockerfile or ""
    lines = text.splitlines()
    assert lines[1] == f"FROM {env.parent}"
    assert env.parent is not None and env.parent.startswith("evalfleet/base:bookworm-")
    apt = next(line for line in lines if "apt-get install" in line)
    assert "--no-install-recommends" in apt and "python3" in apt and "Acquire::Retries" in apt
    assert "COPY repo.git /testbed/.git" in lines
    order = [
        text.index(s)
        for s in (f"checkout -q -f {ENV}", "echo pre", "pip install six==1.16.0", "multi\\nline")
    ]
    assert order == sorted(order)
    run = next(line for line in lines if "multi" in line)  # multi-line commands stay one JSON line
    assert json.loads(run.removeprefix("RUN "))[-1] == "echo 'multi\nline'"


def test_env_commit_falls_back_to_base_commit(bundle: RepoSource, options: ImageOptions) -> None:
    env = build_chain(instance(environment_setup_commit=""), spec(), bundle, options)[2]
    assert f"checkout -q -f {BASE}" in (env.dockerfile or "")
    assert env.labels["evalfleet.env-commit"] == BASE


def test_url_source_clones_in_the_build(options: ImageOptions) -> None:
    src = RepoSource(kind="url", location="https://example.org/demo/calc.git")
    text = build_chain(instance(), spec(), src, options)[2].dockerfile or ""
    assert "git clone -q --no-checkout https://example.org/demo/calc.git /testbed" in text
    assert "COPY" not in text


def test_instance_dockerfile_checks_out_base_commit(bundle: RepoSource, options: ImageOptions) -> None:
    plan = build_chain(instance(), spec(), bundle, options)[3]
    script = json.loads((plan.dockerfile or "").splitlines()[-1].removeprefix("RUN "))[-1]
    assert f"git checkout -q -f {BASE}" in script and "git clean -fdq" in script
    assert "( pip install -e .\n)" in script
    assert script.index("git clean") < script.index("pip install") < script.index(".git/info/exclude")
    assert plan.labels["evalfleet.instance"] == "demo__calc-1"
    assert plan.labels["evalfleet.layer"] == "instance"


def test_tags_are_stable_and_layered(bundle: RepoSource, options: ImageOptions) -> None:
    first = tags(instance(), spec(), bundle, options)
    assert first == tags(instance(), spec(), bundle, options)
    assert first["rootfs"].startswith("evalfleet/rootfs:bookworm-")
    assert first["env"].startswith("evalfleet/env:") and first["instance"].startswith("evalfleet/inst:")
    assert len(first["env"].split(":")[1]) == 16


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        ({"install": ["echo other"]}, {"env", "instance"}),
        ({"pip_packages": ["six==1.17.0"]}, {"env", "instance"}),
        ({"system_packages": ["python3", "make"]}, {"env", "instance"}),
        ({"workdir": "/repo"}, {"env", "instance"}),
        ({"base": "bullseye"}, {"rootfs", "base", "env", "instance"}),
        ({"instance_setup": []}, {"instance"}),
        ({"test_cmd": "pytest -x", "parser": "django", "timeouts": {"test": 5}, "env": {"A": "1"}}, set()),
    ],
)
def test_tag_sensitivity_to_spec(
    bundle: RepoSource, options: ImageOptions, change: dict, changed: set
) -> None:
    before, after = (
        tags(instance(), spec(), bundle, options),
        tags(instance(), spec(**change), bundle, options),
    )
    assert {layer for layer in before if before[layer] != after[layer]} == changed


def test_tag_sensitivity_to_instance_and_repo(bundle: RepoSource, options: ImageOptions) -> None:
    before = tags(instance(), spec(), bundle, options)
    other_base = tags(instance(base_commit="f" * 40), spec(), bundle, options)
    assert other_base["env"] == before["env"] and other_base["instance"] != before["instance"]
    other_id = tags(instance(instance_id="demo__calc-2"), spec(), bundle, options)
    assert other_id == before  # same content, same image: instances at one base commit share it
    Path(bundle.location).write_bytes(b"other bundle bytes")
    assert tags(instance(), spec(), bundle, options)["env"] != before["env"]


def test_site_settings_do_not_change_tags(bundle: RepoSource, options: ImageOptions, tmp_path: Path) -> None:
    ca = tmp_path / "corp.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    site = options.model_copy(
        update={
            "ca_bundle": ca,
            "pip_index_url": "https://pypi.corp.example/simple",
            "pip_trusted_hosts": ["corp.example"],
            "http_proxy": "http://proxy:3128",
            "https_proxy": "http://proxy:3128",
            "build_timeout_s": 60.0,
            "build_network": "host",
            "state_dir": tmp_path / "elsewhere",
        }
    )
    assert tags(instance(), spec(), bundle, options) == tags(instance(), spec(), bundle, site)
    # ... but the base layer records them, so a stale base can be noticed
    assert base_plans("bookworm", options)[1].labels[SITE] != base_plans("bookworm", site)[1].labels[SITE]


def test_apt_mirror_changes_every_tag(bundle: RepoSource, options: ImageOptions) -> None:
    snapshot = options.model_copy(
        update={"apt_mirror": "http://snapshot.debian.org/archive/debian/20240101T000000Z"}
    )
    before, after = tags(instance(), spec(), bundle, options), tags(instance(), spec(), bundle, snapshot)
    assert all(before[layer] != after[layer] for layer in before)


def test_base_dockerfile_is_site_neutral(options: ImageOptions) -> None:
    rootfs, base = base_plans("bookworm", options)
    text = base.dockerfile or ""
    assert f"FROM {rootfs.tag}" in text
    assert "COPY site/ca.crt /usr/local/share/ca-certificates/evalfleet-site.crt" in text
    assert "PIP_CERT=/etc/ssl/certs/ca-certificates.crt" in text and "python3 -m venv" in text
    assert "proxy" not in text.lower()
    assert base_plans("bullseye", options)[1].dockerfile != text


def test_unknown_base_is_a_clear_error(bundle: RepoSource, options: ImageOptions) -> None:
    with pytest.raises(
        ImageBuildError, match="unknown base image 'jessie' -- use one of: bookworm, bullseye"
    ) as exc:
        build_chain(instance(), spec(base="jessie"), bundle, options)
    assert exc.value.retryable is False


SWEBENCH_IDS = [
    "django__django-11099",
    "sympy__sympy-20590",
    "astropy__astropy-12907",
    "Org__Repo-1",
    "a__b__c-2",
]


@pytest.mark.parametrize("iid", SWEBENCH_IDS)
def test_pull_ref_matches_swebench(iid: str) -> None:
    ref = pull_ref("swebench/sweb.eval.x86_64.{instance_id}", iid)
    assert ref == swebench_image_name(iid)
    assert "__" not in ref and ref == ref.lower() and ref.endswith(":latest")
    image_spec = pytest.importorskip("swebench.image_builder.image_spec")
    assert ref == image_spec.ImageSpec(instance_id=iid, dockerfile="FROM x", namespace="swebench").name
    assert (
        swebench_image_name(iid, namespace=None) == image_spec.ImageSpec(iid, "FROM x", namespace=None).name
    )


def test_pull_ref_examples() -> None:
    assert pull_ref("swebench/sweb.eval.x86_64.{instance_id}", "django__django-11099") == (
        "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"
    )
    assert (
        pull_ref("reg.local:5000/sweb.{arch}.{instance_id}:v2", "a__b-1")
        == "reg.local:5000/sweb.x86_64.a_1776_b-1:v2"
    )
    assert split_ref("reg.local:5000/a/b") == ("reg.local:5000/a/b", "")
    assert split_ref("reg.local:5000/a/b:t") == ("reg.local:5000/a/b", "t")
    assert split_ref("a/b@sha256:00") == ("a/b", "sha256:00")


def test_pull_template_must_name_the_instance() -> None:
    with pytest.raises(ValidationError, match="instance_id"):
        ImageOptions(pull_template="swebench/sweb.eval.x86_64.fixed")


def test_pip_settings_keep_only_http_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nfind-links = /opt/wheels\nindex-url = https://pypi.corp.example/simple\n"
        "extra-index-url = file:///opt/pypi/simple https://extra.example/simple\n"
        "trusted-host = corp.example\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"):
        monkeypatch.delenv(var, raising=False)
    pip = resolve_pip(ImageOptions())
    assert pip.index_url == "https://pypi.corp.example/simple"
    assert pip.extra_index_urls == ("https://extra.example/simple",)
    assert pip.trusted_hosts == ("corp.example",)
    assert "find-links" not in pip.conf_text() and "file:" not in pip.conf_text()
    explicit = resolve_pip(ImageOptions(pip_index_url="https://mine.example/simple"))
    assert explicit.index_url == "https://mine.example/simple"
    assert resolve_pip(ImageOptions(pip_from_host=False)).conf_text() == "[global]\n"


def test_ca_bundle_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("pem")
    monkeypatch.setenv("PIP_CERT", str(pem))
    assert resolve_ca_bundle(ImageOptions()) == pem
    assert resolve_ca_bundle(ImageOptions(detect_ca_bundle=False)) is None
    with pytest.raises(ImageBuildError, match="is not a file") as exc:
        resolve_ca_bundle(ImageOptions(ca_bundle=tmp_path / "missing.pem"))
    assert exc.value.retryable is False


def test_proxies_are_build_args() -> None:
    args = proxy_buildargs(ImageOptions(http_proxy="http://p:3128", no_proxy="localhost"))
    assert args == {
        "http_proxy": "http://p:3128",
        "HTTP_PROXY": "http://p:3128",
        "no_proxy": "localhost",
        "NO_PROXY": "localhost",
    }


def test_ensure_once_builds_once_across_threads(tmp_path: Path) -> None:
    built: list[str] = []
    done = threading.Event()

    def find() -> str | None:
        return "sha256:feed" if done.is_set() else None

    def build() -> str:
        built.append("x")
        time.sleep(0.3)
        done.set()
        return "sha256:feed"

    results = []

    def worker() -> None:
        results.append(
            ensure_once("env", "evalfleet/env:t", find=find, build=build, lock_dir=tmp_path, timeout_s=10)
        )

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert sorted(r.built for r in results) == [False, False, False, True]
    assert {r.image_id for r in results} == {"sha256:feed"}
    assert max(r.waited_s for r in results if not r.built) >= 0.2


def test_state_records(tmp_path: Path) -> None:
    touch(tmp_path, "evalfleet/env:a", "sha256:a", at=100.0)
    touch(tmp_path, "evalfleet/inst:b", "sha256:b")
    uses = last_used(tmp_path)
    assert uses["evalfleet/env:a"] == 100.0 and uses["evalfleet/inst:b"] > 100.0
    record_build(tmp_path, tag="evalfleet/env:a", layer="env", image_id="sha256:a", seconds=1.5)
    assert [(r.tag, r.layer, r.seconds) for r in build_history(tmp_path)] == [("evalfleet/env:a", "env", 1.5)]


def _fail(stream: list[dict], tmp_path: Path) -> LayerBuildError:
    progress = _Progress()
    out = (tmp_path / "build.log").open("w")
    for chunk in stream:
        progress.feed(chunk, out)
    out.close()
    plan = build_chain(
        instance(), spec(), RepoSource(kind="url", location="https://x/y.git"), ImageOptions()
    )[2]
    return _failure(plan, progress, tmp_path / "build.log", f"command failed (exit {progress.exit_code})")


def test_failed_command_is_not_retryable(tmp_path: Path) -> None:
    err = _fail(
        [
            {"stream": 'Step 7/9 : RUN ["/bin/bash", "-euo", "pipefail", "-c", "pip install nope==9"]\n'},
            {"stream": " ---> Running in 0123456789ab\n"},
            {"stream": "\x1b[91mERROR: No matching distribution found for nope==9\n\x1b[0m"},
            {
                "error": "The command ... returned a non-zero code: 1",
                "errorDetail": {"code": 1, "message": "..."},
            },
        ],
        tmp_path,
    )
    assert err.retryable is False
    assert "at step '7/9 RUN pip install nope==9': command failed (exit 1)" in str(err)
    assert "No matching distribution found for nope==9" in str(err) and "\n" not in str(err)
    assert str(err).endswith(f"-- log: {tmp_path / 'build.log'}")
    assert err.tail[-1] == "ERROR: No matching distribution found for nope==9"


def test_network_failure_is_retryable(tmp_path: Path) -> None:
    err = _fail(
        [
            {"stream": "Step 3/9 : RUN apt-get install\n"},
            {
                "stream": "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  "
                "Temporary failure resolving 'deb.debian.org'\n"
            },
            {"stream": "E: Unable to locate package python3\n"},
            {"error": "returned a non-zero code: 100", "errorDetail": {"code": 100}},
        ],
        tmp_path,
    )
    assert err.retryable is True


def test_plan_lists_each_layer_once_parents_first(bundle: RepoSource, options: ImageOptions) -> None:
    items = [
        (instance(instance_id="demo__calc-1"), spec(), bundle),
        (instance(instance_id="demo__calc-2", base_commit="f" * 40), spec(), bundle),
    ]
    planned = plan_images(items, options, check_local=False)
    assert [p.layer for p in planned] == ["rootfs", "base", "env", "instance", "instance"]
    env = planned[2]
    assert env.instance_ids == ["demo__calc-1", "demo__calc-2"] and env.repo == "demo/calc"
    assert planned[3].parent == env.tag and planned[4].instance_ids == ["demo__calc-2"]
    templated = options.model_copy(update={"pull_template": "swebench/sweb.eval.x86_64.{instance_id}"})
    named = plan_images([(instance(), spec(), None)], templated, check_local=False)
    assert [(p.layer, p.tag) for p in named] == [
        ("prebuilt", "swebench/sweb.eval.x86_64.demo_1776_calc-1:latest")
    ]
    with pytest.raises(ImageBuildError, match="no repository source for demo/calc"):
        plan_images([(instance(), spec(), None)], options, check_local=False)


def test_tag_lock_excludes_other_processes(tmp_path: Path) -> None:
    holder = (
        "import sys, time; from pathlib import Path; from workers.images.locks import tag_lock\n"
        "with tag_lock('evalfleet/env:x', Path(sys.argv[1]), 10):\n"
        "    print('held', flush=True); time.sleep(1.0)\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", holder, str(tmp_path)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with tag_lock("evalfleet/env:x", tmp_path, 10) as waited:
        assert waited > 0.5
    assert proc.wait(timeout=10) == 0
    with tag_lock("evalfleet/env:x", tmp_path, 10) as waited:
        assert waited < 0.5
