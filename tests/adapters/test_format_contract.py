"""The contract every export format keeps, checked for each registered format (``ingest.formats.<name>``).

For each format:

* **schema**: what it reads from its fixtures conforms to ``ADAPTER_SCHEMA`` (and the quarantine to
  ``QUARANTINE_ADAPTER_SCHEMA``), with posts only of the platforms it declares;
* **platforms**: every platform it declares is one of ``ingest.schema.PLATFORMS``;
* **options**: its ``options.py`` declares typed ``Option``s whose flags the ``discourse ingest``
  command offers;
* **sniffing**: it recognises its own fixtures (``tests/fixtures/<name>/``) and detection picks it; no
  other format claims them, except a catch-all sniffed last (``generic``), and it claims no other
  format's fixtures;
* **remap**: each fixture ingested into a lake and re-mapped from the stored raw records gives back
  exactly the same rows;
* **ground truth**: a small corpus of this format from the generator (``synth.generate``) loads,
  quarantines and skips exactly what its ``_ground_truth.json`` says.

A new format gets all of these by being registered; see ``docs/adding-a-format.md``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from _helpers import FIXTURES, assert_lake_matches_truth, assert_remap_reproduces, read_chunks

from ingest import registry
from ingest.lake import ingest_file
from ingest.schema import ADAPTER_SCHEMA, PLATFORMS, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import expand

# A catch-all format (sniffed last: priority at least this) may also claim other formats' files.
CATCH_ALL_PRIORITY = 1000
DOC_SUFFIXES = (".md", ".txt")

ADAPTERS = registry.adapters()
NAMES = sorted(ADAPTERS)


def package(name: str) -> str:
    """The format package of adapter ``name`` (``ingest.formats.<package>.adapter``)."""
    module = ADAPTERS[name].__module__
    prefix = registry.FORMATS_PACKAGE + "."
    assert module.startswith(prefix) and module.endswith(".adapter"), (
        f"adapter {name!r} is defined in {module}; a format's adapter lives in "
        f"{registry.FORMATS_PACKAGE}.<name>.adapter"
    )
    return module[len(prefix) : -len(".adapter")]


def fixture_sources(name: str) -> list:
    """Every source (file, or zip member) under ``tests/fixtures/<package>/``, documentation aside."""
    folder = FIXTURES / package(name)
    assert folder.is_dir(), f"format {name!r} has no fixtures: add some to {folder}"
    return [
        src
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix not in DOC_SUFFIXES
        for src in expand(path)
    ]


def own_fixtures(name: str) -> list:
    """The fixture sources the format recognises (the rest are support files: a sidecar, an archive's
    other members, a file that needs an option to be read)."""
    adapter = registry.get(name)
    return [src for src in fixture_sources(name) if adapter.sniff(src.head())]


def test_every_format_package_registers_one_adapter():
    packages = registry.format_packages()
    assert sorted(package(n) for n in NAMES) == packages
    assert set(registry.format_options()) == set(packages), "every format package has an options.py"


@pytest.mark.parametrize("name", NAMES)
def test_platforms_are_known(name: str):
    cls = ADAPTERS[name]
    assert cls.platforms, f"{cls.__module__}: declare the platforms its posts can have (`platforms = (...)`)"
    for platform in (*cls.platforms, cls.platform):
        assert platform in PLATFORMS, (
            f"format {name!r} ({cls.__module__}) declares platform {platform!r}, which is not in "
            "ingest.schema.PLATFORMS: add it to PLATFORMS in src/ingest/schema.py (the quality suite "
            "reads it), then run `python -m discourse.transform.codegen` so dbt's accepted values follow"
        )


@pytest.mark.parametrize("name", NAMES)
def test_options_are_typed_and_offered(name: str):
    from discourse.cli import build_parser

    module = importlib.import_module(f"{registry.FORMATS_PACKAGE}.{package(name)}.options")
    assert isinstance(module.OPTIONS, tuple)
    parser = build_parser()
    for opt in module.OPTIONS:
        assert isinstance(opt, registry.Option), opt
        assert opt.name.isidentifier() and opt.help and opt.type is not None, opt
        if opt.flag:
            assert opt.flag.startswith("--"), opt
            args = parser.parse_args(["ingest", "export.json", opt.flag, "value"])
            assert getattr(args, opt.name) == "value", f"{opt.flag} is not offered by `discourse ingest`"
    # one declaration per name across all formats (formats share one by importing it)
    declared = registry.option_declarations()
    assert len({o.name for o in declared}) == len(declared)
    assert len({o.flag for o in declared if o.flag}) == len([o for o in declared if o.flag])


@pytest.mark.parametrize("name", NAMES)
def test_sniffs_its_own_fixtures_and_no_other_format_claims_them(name: str):
    assert own_fixtures(name), f"no fixture under tests/fixtures/{package(name)}/ is recognised by {name!r}"
    catch_alls = {n for n, cls in ADAPTERS.items() if cls.priority >= CATCH_ALL_PRIORITY}
    for src in fixture_sources(name):
        head = src.head()
        claims = {n for n, cls in ADAPTERS.items() if cls().sniff(head)}
        others = claims - {name} - catch_alls
        assert not others, f"{src.name}: claimed by {sorted(others)} as well as {name!r}"
        if name in claims:
            assert registry.detect(src).name == name, src.name
    if name not in catch_alls:
        adapter = registry.get(name)
        for other in NAMES:
            if other != name:
                claimed = [src.name for src in fixture_sources(other) if adapter.sniff(src.head())]
                assert not claimed, f"{name!r} claims fixtures of {other!r}: {claimed}"


@pytest.mark.parametrize("name", NAMES)
def test_output_conforms_to_the_schema(name: str):
    declared = set(ADAPTERS[name].platforms)
    for src in own_fixtures(name):
        chunks = read_chunks(name, src)  # checks every chunk's posts and quarantine schemas
        assert chunks, src.name
        for chunk in chunks:
            assert chunk.posts.schema == ADAPTER_SCHEMA
            assert chunk.quarantine.schema == QUARANTINE_ADAPTER_SCHEMA
            assert set(chunk.posts.column("platform").to_pylist()) <= declared, src.name


@pytest.mark.parametrize("name", NAMES)
def test_remap_reproduces_the_ingest(settings, name: str):
    for src in own_fixtures(name):
        path = Path(src.path)
        for entry in ingest_file(settings, path, fmt=name):
            if entry["loaded"]:
                assert entry["remappable"], src.name
                assert_remap_reproduces(settings, entry)


@pytest.mark.parametrize("name", NAMES)
def test_generator_ground_truth(tmp_path: Path, name: str):
    synth = pytest.importorskip("synth")
    if name not in synth.FORMATS:
        pytest.skip(f"the generator has no writer for {name!r} (src/synth/formats/{name}.py is optional)")
    from discourse.settings import load_settings

    out = tmp_path / "corpus"
    posts = max(400, synth.MIN_POSTS)
    try:
        truth = synth.generate(out, posts=posts, seed=3, formats=(name,))
    except ValueError as exc:
        if "campaign" not in str(exc):
            raise
        # the planted campaign needs a format able to carry it: generic comes along
        truth = synth.generate(out, posts=posts, seed=3, formats=(name, "generic"))
    assert any(f["format"] == name for f in truth["files"].values())
    settings = load_settings(env={"DISCOURSE_PSEUDONYM_KEY": "contract-test-key"}, home=tmp_path / "home")
    assert_lake_matches_truth(settings, out, truth)


def test_ingest_flags_reach_the_adapter_and_the_manifest(settings, monkeypatch, capsys):
    """``discourse ingest`` reads each declared flag the way the format declares it (``--map`` through the
    generic parser, ``--chat-types`` as a list), and the lake records the options that shape a mapping."""
    from discourse.cli import main
    from ingest.lake import read_manifests

    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")
    home = str(settings.home)
    mapped = "id=post_ref,text=isi_postingan,created_at=waktu_unggah,author=akun"
    assert main(["--home", home, "ingest", str(FIXTURES / "generic" / "mapped.csv"), "--format", "generic",
                 "--map", mapped, "--platform", "x", "--delimiter", "semicolon"]) == 0
    assert main(["--home", home, "ingest", str(FIXTURES / "telegram" / "full_export.json"),
                 "--chat-types", "public_channel, public_supergroup", "--timezone", "Asia/Jakarta"]) == 0
    options = {m["export_format"]: m["options"] for m in read_manifests(settings.manifest_dir)}
    assert options["generic"] == {
        "map": {"id": "post_ref", "text": "isi_postingan", "created_at": "waktu_unggah", "author": "akun"},
        "platform": "x",
        "delimiter": "semicolon",
    }
    assert options["telegram_desktop"] == {
        "chat_types": ["public_channel", "public_supergroup"],
        "timezone": "Asia/Jakarta",
    }
    capsys.readouterr()
    assert main(["--home", home, "ingest", str(FIXTURES / "generic" / "posts.csv"), "--map", "body=isi"]) == 1
    assert "--map: unknown canonical field 'body'" in capsys.readouterr().err
