"""Writes (or reuses) the benchmark corpus: the sample generator's realistic CloudTrail S3 tree.

usage: generate_corpus.py OUTPUT_DIR EVENTS [SEED]

  OUTPUT_DIR  folder for the tree (logs under OUTPUT_DIR/AWSLogs/)
  EVENTS      background events; the tree also holds the generator's planted incidents
  SEED        integer seed, default 1

The records come from samples/generate_sample_logs.py (imported, not copied), so the
benchmark reads the same shapes as the tests and the demo. A corpus already written with
the same EVENTS, SEED and generator is reused without regenerating; corpus-manifest.json in
OUTPUT_DIR says what it holds (records, files, bytes).
"""
import gzip
import hashlib
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "samples" / "generate_sample_logs.py"
sys.path.insert(0, str(GENERATOR.parent))

import generate_sample_logs as sample  # noqa: E402

MANIFEST = "corpus-manifest.json"
DUPLICATE_SHARE = 20        # additions: one record in about 20 repeats an event already loaded


def generator_hash():
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()


def log_files(folder):
    """Every .json.gz under folder except CloudTrail digests (hash chains, not events), sorted."""
    found = []
    for parent, _, names in os.walk(folder):
        if "CloudTrail-Digest" in parent:
            continue
        found += [os.path.join(parent, name) for name in names if name.endswith(".json.gz")]
    return sorted(found)


def tree_fingerprint(folder):
    """(files, bytes) of every file under folder: a cheap check that a cached tree is intact."""
    count = size = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            count += 1
            size += os.path.getsize(os.path.join(parent, name))
    return count, size


def read_manifest(output_dir):
    try:
        return orjson.loads((Path(output_dir) / MANIFEST).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None


def write_manifest(output_dir, manifest):
    path = Path(output_dir) / MANIFEST
    path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def cached(output_dir, identity):
    """The manifest when output_dir holds an intact tree made with these arguments, else None."""
    manifest = read_manifest(output_dir)
    if not manifest or any(manifest.get(key) != value for key, value in identity.items()):
        return None
    if manifest.get("fingerprint") != list(tree_fingerprint(Path(output_dir) / "AWSLogs")):
        return None
    return manifest


def ensure_corpus(output_dir, events, seed=sample.DEFAULT_SEED, quiet=False):
    """The manifest of an intact corpus in output_dir, generating it first when needed."""
    identity = {"kind": "corpus", "events": events, "seed": seed, "generator": generator_hash()}
    manifest = cached(output_dir, identity)
    if manifest:
        return manifest
    started = time.monotonic()
    written, extra, _, _ = sample.generate(str(output_dir), events, seed)
    counted = written + [info for info in extra if info.records]
    files = log_files(Path(output_dir) / "AWSLogs")
    manifest = dict(identity,
                    records=sum(info.records for info in counted),
                    json_bytes=sum(info.json_bytes for info in counted),
                    log_files=len(files),
                    gzip_bytes=sum(os.path.getsize(path) for path in files),
                    seconds=round(time.monotonic() - started, 1),
                    fingerprint=list(tree_fingerprint(Path(output_dir) / "AWSLogs")))
    write_manifest(output_dir, manifest)
    if not quiet:
        print(f"{output_dir}: {manifest['records']:,} records in {manifest['log_files']:,} files "
              f"({manifest['json_bytes'] / 1e6:,.0f} MB of JSON, {manifest['gzip_bytes'] / 1e6:,.0f} MB gzip), "
              f"generated in {manifest['seconds']} s", file=sys.stderr)
    return manifest


def ensure_additions(output_dir, corpus_dir, events, seed):
    """A tree to add to a database already holding corpus_dir: new events plus duplicates.

    - AWSLogs/: a second generated tree (another seed, so new event ids) of EVENTS events;
    - redelivered/: files of corpus_dir written again (records reversed, indented JSON) under
      new names, so their records repeat stored events but the file contents are new;
    - copied/: one file of corpus_dir copied byte for byte under a new name.
    Inputs for the ingest: the three folders.
    """
    # This file's own hash too: the repeated files are written here.
    identity = {"kind": "additions", "events": events, "seed": seed, "generator": generator_hash(),
                "builder": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
                "corpus": str(Path(corpus_dir).resolve())}
    manifest = cached(output_dir, identity)
    if manifest and tree_fingerprint(Path(output_dir) / "redelivered")[0] == manifest["redelivered_files"]:
        return manifest
    written, extra, _, _ = sample.generate(str(output_dir), events, seed)
    new_records = sum(info.records for info in written + extra)
    originals = log_files(Path(corpus_dir) / "AWSLogs")
    # Spread over the whole corpus, so the repeats hit every account and region.
    step = max(1, len(originals) // 50)
    redelivered, copied = Path(output_dir) / "redelivered", Path(output_dir) / "copied"
    # Files from an earlier corpus would be extra inputs with other records.
    shutil.rmtree(redelivered, ignore_errors=True)
    shutil.rmtree(copied, ignore_errors=True)
    duplicate_records = duplicate_files = 0
    for path in originals[::step]:
        if duplicate_records * DUPLICATE_SHARE >= events:
            break
        records = orjson.loads(gzip.decompress(Path(path).read_bytes()))["Records"]
        name = os.path.basename(path).removesuffix(".json.gz") + "_redelivered.json.gz"
        # Indenting changes the bytes even of a one-record file, whose reversal is itself.
        data = gzip.compress(orjson.dumps({"Records": records[::-1]}, option=orjson.OPT_INDENT_2), mtime=0)
        sample.write_if_changed(str(redelivered / name), data)
        duplicate_records += len(records)
        duplicate_files += 1
    copied_from = originals[len(originals) // 2]
    copied_records = len(orjson.loads(gzip.decompress(Path(copied_from).read_bytes()))["Records"])
    sample.write_if_changed(str(copied / ("copy_of_" + os.path.basename(copied_from))),
                            Path(copied_from).read_bytes())
    manifest = dict(identity, new_records=new_records, duplicate_records=duplicate_records,
                    redelivered_files=duplicate_files, copied_records=copied_records,
                    records=new_records + duplicate_records + copied_records,
                    fingerprint=list(tree_fingerprint(Path(output_dir) / "AWSLogs")))
    write_manifest(output_dir, manifest)
    return manifest


def key_paths_of_file(path):
    """Every key path in one file's records, lists looked through: {'requestParameters.bucketName', ...}."""
    found = set()

    def walk(value, prefix):
        if isinstance(value, dict):
            for key, child in value.items():
                path_here = f"{prefix}.{key}" if prefix else key
                found.add(path_here)
                walk(child, path_here)
        elif isinstance(value, list):
            for child in value:
                walk(child, prefix)

    for record in orjson.loads(gzip.decompress(Path(path).read_bytes())).get("Records", []):
        walk(record, "")
    return found


def corpus_key_paths(output_dir):
    """Every distinct key path in the corpus' records (cached in the manifest)."""
    manifest = read_manifest(output_dir)
    if manifest.get("key_paths") is not None:
        return set(manifest["key_paths"])
    paths = set()
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        for found in pool.imap_unordered(key_paths_of_file, log_files(Path(output_dir) / "AWSLogs"), chunksize=64):
            paths |= found
    manifest["key_paths"] = sorted(paths)
    write_manifest(output_dir, manifest)
    return paths


def main(argv):
    arguments = argv[1:]
    try:
        if not 2 <= len(arguments) <= 3:
            raise ValueError("expected OUTPUT_DIR EVENTS [SEED]")
        events = int(arguments[1])
        seed = int(arguments[2]) if len(arguments) > 2 else sample.DEFAULT_SEED
        if events < 1:
            raise ValueError("EVENTS must be a positive whole number")
    except ValueError as error:
        print(f"generate_corpus.py: {error}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    manifest = ensure_corpus(arguments[0], events, seed, quiet=True)
    print(f"{arguments[0]}: {manifest['records']:,} records in {manifest['log_files']:,} log files, "
          f"{manifest['json_bytes'] / 1e6:,.0f} MB of JSON, {manifest['gzip_bytes'] / 1e6:,.0f} MB gzip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
