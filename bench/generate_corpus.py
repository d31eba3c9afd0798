"""Writes (or reuses) the benchmark corpus: the sample generator's realistic CloudTrail S3 tree.

usage: generate_corpus.py OUTPUT_DIR EVENTS [SEED [SHAPE]]

  OUTPUT_DIR  folder for the tree (logs under OUTPUT_DIR/AWSLogs/)
  EVENTS      background events; the tree also holds the generator's planted incidents
  SEED        integer seed, default 1
  SHAPE       how the records are cut into files, default small:
                small  the generator's own tree: a file per account and region every five
                       minutes, about 60 records each at 2M events
                large  the same records cut into larger files, as a busy account delivers
                       them: file sizes drawn from a log-normal distribution with a median of
                       150 records and a tail of files with thousands (at most 5,000); the
                       small tree is written first to OUTPUT_DIR-source and reused
                real   the public CloudTrail trees in ../shared/data (S3 layout, as AWS wrote
                       them) copied again and again, each copy's event ids made new, until
                       the copies hold about EVENTS / 20 records (EVENTS is not generated)

The records come from samples/generate_sample_logs.py (imported, not copied), so the
benchmark reads the same shapes as the tests and the demo. A corpus already written with
the same EVENTS, SEED and generator is reused without regenerating; corpus-manifest.json in
OUTPUT_DIR says what it holds (records, files, bytes).
"""
import gzip
import hashlib
import math
import multiprocessing
import os
import random
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
SHAPES = ("small", "large", "real")
LARGE_MEDIAN, LARGE_SIGMA, LARGE_MAX = 150, 0.9, 5000      # records per file of the large shape
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_TREES = ("panther/s3_test_scenarios", "stratus-red-team/s3", "otrf/s3")   # S3 layout, under SHARED_DATA
REAL_SHARE = 20             # the real shape holds about EVENTS / REAL_SHARE records
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


def builder_hash():
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def ensure_shape(output_dir, events, seed=sample.DEFAULT_SEED, shape="small", source_dir=None, quiet=False):
    """The manifest of an intact corpus of SHAPE in output_dir (see the module docstring).
    source_dir: where the large shape's small tree is (written there first when needed)."""
    if shape == "small":
        return ensure_corpus(output_dir, events, seed, quiet)
    if shape == "large":
        source_dir = source_dir or f"{str(output_dir).rstrip('/')}-source"
        source = ensure_corpus(source_dir, events, seed, quiet)
        return ensure_large(output_dir, source_dir, source, quiet)
    if shape == "real":
        return ensure_real(output_dir, events, quiet)
    raise ValueError(f"SHAPE must be one of {', '.join(SHAPES)}, got {shape!r}")


def _corpus_from(output_dir, identity, started, counted_records, counted_json, quiet):
    files = log_files(Path(output_dir) / "AWSLogs")
    manifest = dict(identity, records=counted_records, json_bytes=counted_json, log_files=len(files),
                    gzip_bytes=sum(os.path.getsize(path) for path in files),
                    seconds=round(time.monotonic() - started, 1),
                    fingerprint=list(tree_fingerprint(Path(output_dir) / "AWSLogs")))
    write_manifest(output_dir, manifest)
    if not quiet:
        print(f"{output_dir}: {manifest['records']:,} records in {manifest['log_files']:,} files "
              f"({manifest['json_bytes'] / 1e6:,.0f} MB of JSON, {manifest['gzip_bytes'] / 1e6:,.0f} MB gzip), "
              f"written in {manifest['seconds']} s", file=sys.stderr)
    return manifest


def ensure_large(output_dir, source_dir, source, quiet=False):
    """The source tree's records cut again into files of log-normal size (median LARGE_MEDIAN
    records), per folder (account, region, day) in time order; other files (digests, the
    Insights file) are linked unchanged."""
    identity = {"kind": "corpus-large", "events": source["events"], "seed": source["seed"],
                "generator": generator_hash(), "builder": builder_hash(),
                "source": str(Path(source_dir).resolve())}
    manifest = cached(output_dir, identity)
    if manifest:
        return manifest
    started = time.monotonic()
    target = Path(output_dir) / "AWSLogs"
    shutil.rmtree(target, ignore_errors=True)
    source_root = Path(source_dir) / "AWSLogs"
    folders = {}
    for parent, _, names in os.walk(source_root):
        for name in sorted(names):
            path = Path(parent) / name
            relative = path.relative_to(source_root)
            if "/CloudTrail/" in f"/{relative}" and name.endswith(".json.gz"):
                folders.setdefault(parent, []).append(str(path))
            else:
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target / relative)
    tasks = [(str(source_root), str(target), folder, sorted(paths), source["seed"])
             for folder, paths in sorted(folders.items())]
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        done = pool.map(_repack_folder, tasks, chunksize=1)
        pool.close()    # workers end on their own, not by terminate()'s SIGTERM (see generate_sample_logs)
        pool.join()
    return _corpus_from(output_dir, identity, started, sum(r for r, _ in done), sum(b for _, b in done), quiet)


def _repack_folder(task):
    """One folder of the small tree cut into files of log-normal record counts: (records, JSON bytes)."""
    source_root, target, folder, paths, seed = task
    relative_folder = Path(folder).relative_to(source_root)
    rng = random.Random(f"{seed}/{relative_folder}")
    pieces = []                 # (record text, name of the file it came from)
    for path in paths:
        raws = orjson_free_records(Path(path).read_bytes())
        pieces += [(raw, os.path.basename(path)) for raw in raws]
    out = Path(target) / relative_folder
    out.mkdir(parents=True, exist_ok=True)
    start = records = json_bytes = 0
    while start < len(pieces):
        size = min(LARGE_MAX, max(1, round(math.exp(rng.gauss(math.log(LARGE_MEDIAN), LARGE_SIGMA)))))
        chunk = pieces[start:start + size]
        start += size
        # Named after the file the chunk's last record came from (its delivery time), with a
        # new unique part, as CloudTrail names them.
        last = chunk[-1][1].removesuffix(".json.gz")
        name = last.rsplit("_", 1)[0] + "_" + hashlib.sha256(f"{last}/{start}".encode()).hexdigest()[:16].upper()
        document = b'{"Records":[' + b",".join(raw for raw, _ in chunk) + b"]}"
        (out / (name + ".json.gz")).write_bytes(sample.gzip_bytes(document))
        records += len(chunk)
        json_bytes += len(document)
    return records, json_bytes


def orjson_free_records(gzipped):
    """The records of a generated log file as their JSON text, without parsing them into objects."""
    import msgspec

    class LogFile(msgspec.Struct):
        Records: list[msgspec.Raw]

    return [bytes(raw) for raw in msgspec.json.decode(gzip.decompress(gzipped), type=LogFile).Records]


def ensure_real(output_dir, events, quiet=False):
    """The public trees in ../shared/data, copied until the copies hold about EVENTS / REAL_SHARE
    records; in copy N every eventID gets the suffix -N (copy 0 is unchanged), so the copies'
    events are new to the ingest. A record without eventID stays as it is (the ingest gives it
    its content's hash, so its copies are recognised as repeats)."""
    trees = [SHARED_DATA / tree for tree in REAL_TREES]
    missing = [str(tree) for tree in trees if not tree.is_dir()]
    if missing:
        raise FileNotFoundError(f"the public trees are missing: {', '.join(missing)}")
    originals = []              # (relative path, parsed document or None, raw bytes)
    records_once = 0
    for tree in trees:
        for path in log_files(tree):
            raw = Path(path).read_bytes()
            try:
                document = orjson.loads(gzip.decompress(raw))
            except (OSError, EOFError, orjson.JSONDecodeError):
                document = None
            if isinstance(document, dict) and isinstance(document.get("Records"), list):
                records_once += len(document["Records"])
            else:
                document = None
            originals.append((f"{tree.relative_to(SHARED_DATA)}/{Path(path).relative_to(tree)}", document, raw))
    copies = max(1, round(events / REAL_SHARE / max(records_once, 1)))
    identity = {"kind": "corpus-real", "events": events, "copies": copies, "builder": builder_hash(),
                "originals": hashlib.sha256(b"".join(raw for _, _, raw in originals)).hexdigest()}
    manifest = cached(output_dir, identity)
    if manifest:
        return manifest
    started = time.monotonic()
    target = Path(output_dir) / "AWSLogs"
    shutil.rmtree(target, ignore_errors=True)
    json_bytes = 0
    for copy in range(copies):
        for relative, document, raw in originals:
            path = target / f"copy-{copy:05d}" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if document is None:
                path.write_bytes(raw)
                continue
            records = [dict(record, eventID=f"{record['eventID']}-{copy}")
                       if copy and isinstance(record, dict) and isinstance(record.get("eventID"), str) else record
                       for record in document["Records"]]
            text = orjson.dumps(dict(document, Records=records))
            json_bytes += len(text)
            path.write_bytes(gzip.compress(text, compresslevel=5, mtime=0))
    return _corpus_from(output_dir, identity, started, records_once * copies, json_bytes, quiet)


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
        pool.close()
        pool.join()
    manifest["key_paths"] = sorted(paths)
    write_manifest(output_dir, manifest)
    return paths


def main(argv):
    arguments = argv[1:]
    try:
        if not 2 <= len(arguments) <= 4:
            raise ValueError("expected OUTPUT_DIR EVENTS [SEED [SHAPE]]")
        events = int(arguments[1])
        seed = int(arguments[2]) if len(arguments) > 2 else sample.DEFAULT_SEED
        shape = arguments[3] if len(arguments) > 3 else "small"
        if events < 1:
            raise ValueError("EVENTS must be a positive whole number")
        if shape not in SHAPES:
            raise ValueError(f"SHAPE must be one of {', '.join(SHAPES)}, got {shape!r}")
    except ValueError as error:
        print(f"generate_corpus.py: {error}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    try:
        manifest = ensure_shape(arguments[0], events, seed, shape, quiet=True)
    except FileNotFoundError as error:
        print(f"generate_corpus.py: {error} - the real shape reads ../shared/data beside the repository",
              file=sys.stderr)
        return 1
    print(f"{arguments[0]}: {manifest['records']:,} records in {manifest['log_files']:,} log files, "
          f"{manifest['json_bytes'] / 1e6:,.0f} MB of JSON, {manifest['gzip_bytes'] / 1e6:,.0f} MB gzip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
