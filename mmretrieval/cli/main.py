"""The ``mmr`` command: a thin typer layer over ``Library``.

Exit codes: 0 success, 2 usage or index errors, 3 when some files could not be indexed.
Tables and progress are for people (progress on stderr); ``--json`` prints JSON on stdout.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import Task
from rich.table import Table
from rich.text import Text

from mmretrieval import export
from mmretrieval.archive import Archive, expand_shard_lists
from mmretrieval.cli.moderate import moderate_app
from mmretrieval.cli.support import (
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    IndexOption,
    JsonOption,
    ProfileOption,
    StageProgress,
    clock,
    err,
    out,
    print_failure,
    user_errors,
)
from mmretrieval.config import bundled_profiles, load_profile
from mmretrieval.copies import CSV_FIELDS as COPY_FIELDS
from mmretrieval.evaluate import DIRECTIONS, EvalReport
from mmretrieval.filters import ClipFilter
from mmretrieval.ingest import FileOutcome, IngestReport
from mmretrieval.library import Library
from mmretrieval.models import profile_models, pull
from mmretrieval.query import parse_box, parse_spaces, parse_weights
from mmretrieval.search import Hit
from mmretrieval.shotlist import FORMATS as SHOTLIST_FORMATS
from mmretrieval.shotlist import write_shot_lists

SEARCH_FORMATS = ("table", "json", *export.FORMATS)
MANIFEST_FORMATS = "auto, msrvtt, msrvtt-json, audiocaps, clotho, vatex or jsonl"
INDEXING = "indexing"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Index footage and search it by what is said, shown or sounds alike.",
)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress details")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


Executor = Literal["local", "ray"]


@app.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="media files or folders (recursed)")],
    index: IndexOption,
    profile: ProfileOption = None,
    prune: Annotated[bool, typer.Option(help="drop catalogued files that no longer exist")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="worker processes decoding and embedding files at once (Ray actors with "
            "--executor ray)",
        ),
    ] = 1,
    executor: Annotated[
        Executor, typer.Option(help="local: worker processes here; ray: Ray actors")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster: auto, or ray://head:10001 (default: this machine's)"),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Index new and changed media; unchanged files are skipped, failures reported."""
    with user_errors(), Library(index, profile=profile) as library:
        with StageProgress(_footage, footage=0.0) as progress:

            def on_file(outcome: FileOutcome) -> None:
                if outcome.status != "removed":
                    indexed = outcome.duration if outcome.status == "indexed" else 0.0
                    progress.advance(INDEXING, footage=indexed)

            report = library.add(
                paths,
                prune=prune,
                workers=workers,
                executor=executor,
                ray_address=ray_address,
                on_start=lambda total: progress.update(INDEXING, total=total),
                on_file=on_file,
            )
    if json_output:
        out.print_json(json.dumps(report.to_dict()))
    else:
        _print_report(report)
    if report.failures:
        raise typer.Exit(EXIT_SOME_FAILED)


IndexesOption = Annotated[
    list[Path],
    typer.Option(
        "--index",
        "-i",
        help="index directory (repeatable: searched as one archive; @FILE: a shard list, one "
        "directory a line)",
    ),
]


def _open_indexes(index_dirs: list[Path]) -> Library | Archive:
    dirs = expand_shard_lists(index_dirs)
    return Library.open_many(dirs) if len(dirs) != 1 else Library(dirs[0])


@app.command()
def search(
    index: IndexesOption,
    query: Annotated[str | None, typer.Argument(help="what to look for, in words")] = None,
    audio: Annotated[
        Path | None, typer.Option(help="a recording: its sound and its speech are the query")
    ] = None,
    image: Annotated[
        Path | None, typer.Option(help="a picture: clips that look (and sound) like it")
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(help="a video: its pictures, sound, speech and screen text are the query"),
    ] = None,
    start: Annotated[float, typer.Option(help="query from this second of --audio/--video")] = 0.0,
    end: Annotated[
        float | None, typer.Option(help="query up to this second of --audio/--video")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--top", help="how many hits")] = 10,
    spaces: Annotated[
        str | None, typer.Option(help="comma-separated spaces to search, e.g. text,lexical")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="space=weight pairs, e.g. text=1,lexical=0.5")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help=f"output: {', '.join(SEARCH_FORMATS)}")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="write the output to this file")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="same as --format json")] = False,
    path: Annotated[
        list[str] | None,
        typer.Option("--path", help="only files matching this glob (repeatable: any of them)"),
    ] = None,
    after: Annotated[
        str | None, typer.Option(help="only files dated on or after this day, YYYY-MM-DD")
    ] = None,
    before: Annotated[
        str | None, typer.Option(help="only files dated on or before this day, YYYY-MM-DD")
    ] = None,
    min_duration: Annotated[
        float | None, typer.Option(help="only files at least this many seconds long")
    ] = None,
    max_duration: Annotated[
        float | None, typer.Option(help="only files at most this many seconds long")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="only files with this tag (repeatable: all)")
    ] = None,
    any_tag: Annotated[
        list[str] | None,
        typer.Option("--any-tag", help="only files with at least one of these tags (repeatable)"),
    ] = None,
    lang: Annotated[
        list[str] | None,
        typer.Option(
            "--lang", help="only clips spoken in this language, ISO 639-1 (repeatable: any)"
        ),
    ] = None,
    voice: Annotated[
        Path | None,
        typer.Option(help="a recording of a person: clips where that voice speaks (people)"),
    ] = None,
    face: Annotated[
        Path | None,
        typer.Option(help="a photo of a person: clips where that face shows (people profile)"),
    ] = None,
    face_box: Annotated[
        str | None, typer.Option(help="x,y,w,h of the face to use in the --face photo")
    ] = None,
    person: Annotated[
        str | None, typer.Option(help="a name given with `mmr people name`: by voice and face")
    ] = None,
) -> None:
    """Search the index (several --index: as one archive) with text, or with a recording,
    picture or video.

    csv, edl (CMX3600) and otio (OpenTimelineIO) export the hits for editing systems. --path,
    --after, --before, --min-duration, --max-duration, --tag and --any-tag restrict the search
    to the files that pass all of them (dates and tags from sidecars; README, "Filters"), --lang
    to clips spoken in one of the languages given. --voice and --face find a person (an index
    made with the people profile; README, "People")."""
    if sum(q is not None for q in (query, audio, image, video, voice, face, person)) != 1:
        err.print(
            "error: give one query: text, --audio FILE, --image FILE, --video FILE, "
            "--voice FILE, --face FILE or --person NAME"
        )
        raise typer.Exit(EXIT_USAGE)
    output_format = "json" if json_output else output_format
    if output_format not in SEARCH_FORMATS:
        err.print(f"error: --format must be one of {', '.join(SEARCH_FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    with user_errors(), _open_indexes(index) as library:
        clip_filter = ClipFilter.from_options(
            paths=path,
            after=after,
            before=before,
            min_duration=min_duration,
            max_duration=max_duration,
            tags=tag,
            any_tags=any_tag,
            languages=lang,
        )
        hits = library.search(
            text=query,
            audio=audio,
            image=image,
            video=video,
            start=start,
            end=end,
            k=k,
            spaces=parse_spaces(spaces),
            weights=parse_weights(weights),
            filter=clip_filter,
            voice=voice,
            face=face,
            face_box=parse_box(face_box),
            person=person,
        )
        if output_format == "table":
            text = None
        elif output_format == "json":
            text = json.dumps([hit.to_dict() for hit in hits], indent=2)
        else:
            title = query or person or Path(audio or image or video or voice or face).name
            text = export.export_hits(hits, output_format, title=title)
    if text is None:
        _print_hits(hits)
    elif output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"{len(hits)} hits written to {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def serve(
    index: IndexesOption,
    host: Annotated[
        str, typer.Option(help="address to listen on; beyond loopback a token is required")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(envvar="MMR_TOKEN", help="token for writes (and for reads off loopback)"),
    ] = None,
    profile: ProfileOption = None,
    media_root: Annotated[
        list[Path] | None,
        typer.Option(help="POST /index accepts only paths below these folders (repeatable)"),
    ] = None,
    max_upload_mb: Annotated[int, typer.Option(help="largest query file accepted")] = 200,
) -> None:
    """Serve the HTTP API (docs at /docs) and the search page for one index, or for several
    searched as one archive (read-only: add media to each with mmr index)."""
    try:
        import uvicorn

        from mmretrieval.server.app import ServerSettings, create_app
    except ImportError as exc:
        err.print(f"error: the server needs {exc.name}: pip install 'mmretrieval[serve]'")
        raise typer.Exit(EXIT_USAGE) from exc

    with user_errors():
        index_dirs = expand_shard_lists(index)
    settings = ServerSettings(
        index_dir=index_dirs if len(index_dirs) != 1 else index_dirs[0],
        profile=profile,
        token=token,
        host=host,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        media_roots=list(media_root or []),
    )
    if settings.reads_need_token and not token:
        err.print(f"error: serving on {host} (beyond this machine) needs --token or MMR_TOKEN")
        raise typer.Exit(EXIT_USAGE)
    with user_errors():
        server_app = create_app(settings)
    served = ", ".join(str(d) for d in index_dirs)
    err.print(f"serving {served} at http://{host}:{port}/ (API docs at /docs)")
    uvicorn.run(server_app, host=host, port=port, log_level="warning")


models_app = typer.Typer(
    help="Models each profile needs, what is here and their licences.", no_args_is_help=False
)
bridge_app = typer.Typer(help="The learned map between the CLAP and CLIP spaces.")
app.add_typer(models_app, name="models")
app.add_typer(bridge_app, name="bridge")
app.add_typer(moderate_app, name="moderate")


people_app = typer.Typer(
    help="The voices and faces of a people-profile index (biometric data): list, name, forget."
)
app.add_typer(people_app, name="people")


@people_app.callback(invoke_without_command=True)
def people(
    ctx: typer.Context,
    index: Annotated[Path | None, typer.Option("--index", "-i", help="index directory")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the voices and faces of an index made with the people profile: each one's label
    (voice:N, face:N or its name, as hits show it), clips, footage time and a sample clip."""
    if ctx.invoked_subcommand is not None:
        return
    if index is None:
        err.print("error: give --index DIR")
        raise typer.Exit(EXIT_USAGE)
    with user_errors(), Library(index) as library:
        found = library.people()
    if json_output:
        sys.stdout.write(json.dumps([asdict(p) for p in found], indent=2) + "\n")
        return
    if not found:
        out.print("no voices or faces: index with --profile people to find people")
        return
    table = Table(expand=True)
    for column in ("person", "clips", "time", "sample"):
        table.add_column(column, overflow="fold")
    for person in found:
        sample = f"{Path(person.sample_path).name} {clock(person.sample_start)}"
        table.add_row(Text(person.label), str(person.clips), clock(person.seconds), Text(sample))
    out.print(table)


@people_app.command("name")
def people_name(
    label: Annotated[str, typer.Argument(help="the voice or face, as listed: voice:3, face:1")],
    name: Annotated[str, typer.Argument(help="the person's name")],
    index: IndexOption,
) -> None:
    """Name a voice or face: hits show the name, `mmr search --person NAME` finds them, and the
    name stays when files are indexed again."""
    with user_errors(), Library(index) as library:
        library.name_person(label, name)
    err.print(f"{label} is now {name!r}")


@people_app.command("forget")
def people_forget(
    label: Annotated[str, typer.Argument(help="the voice or face: voice:3, face:1 or a name")],
    index: IndexOption,
) -> None:
    """Delete a voice's or face's vectors from every clip for good (right to erasure); the
    clips themselves, their text and other vectors stay."""
    with user_errors(), Library(index) as library:
        clips = library.forget_person(label)
    err.print(f"forgot {label} in {clips} clip(s)")


@models_app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    profile: Annotated[
        list[str] | None, typer.Option(help="profile name or YAML; default: every bundled one")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the models of each profile: present locally or not, and their licences."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        rows = [
            (name, model)
            for name in profile or bundled_profiles()
            for model in profile_models(load_profile(name))
        ]
    if json_output:
        out.print_json(
            json.dumps(
                [
                    {
                        "profile": name,
                        "adapter": m.adapter,
                        "model": m.spec,
                        "present": m.present,
                        "licence": m.licence,
                        "commercial_use": m.commercial_use,
                    }
                    for name, m in rows
                ]
            )
        )
        return
    table = Table()
    for column in ("profile", "adapter", "model", "present", "licence"):
        table.add_column(column)
    for name, m in rows:
        licence = m.licence
        if m.commercial_use is False:
            licence = f"[red]{licence} (non-commercial)"
        table.add_row(name, m.adapter, m.spec, "yes" if m.present else "[yellow]no", licence)
    out.print(table)


@models_app.command("pull")
def models_pull(
    profile: Annotated[str, typer.Argument(help="profile whose models to fetch")],
) -> None:
    """Download a profile's hub models into the local cache (on a machine with internet)."""
    with user_errors():
        for path in pull(load_profile(profile)):
            out.print(f"ready: {path}")


@bridge_app.command("fit")
def bridge_fit(
    profile: Annotated[str, typer.Option(help="profile with clip and clap adapters")] = "default",
    out_path: Annotated[
        Path | None, typer.Option("--out", help="where to write it; default: keyed by the models")
    ] = None,
    mlp_epochs: Annotated[
        int, typer.Option(help="contrastive MLP refinement epochs after the linear map")
    ] = 0,
) -> None:
    """Fit the CLAP -> CLIP map on the shipped sentence corpus, for this profile's models."""
    with user_errors():
        fitted, path = Library.fit_profile_bridge(profile, out_path, mlp_epochs)
    out.print(f"bridge {fitted.source_model} -> {fitted.target_model} written to {path}")
    out.print(json.dumps(fitted.fit_stats), highlight=False, soft_wrap=True)


@app.command()
def info(index: IndexOption, json_output: JsonOption = False) -> None:
    """What an index holds: files, clips, hours of footage, channels, models, failures."""
    with user_errors(), Library(index) as library:
        stats = library.stats()
    if json_output:
        out.print_json(json.dumps(stats))
        return
    table = Table(show_header=False, title=f"index {stats['index']}")
    for key in ("profile", "store", "files", "failed", "clips", "hours"):
        table.add_row(key, str(stats[key]))
    if stats["languages"]:
        table.add_row("languages", ", ".join(f"{c}: {h} h" for c, h in stats["languages"].items()))
    guard = stats["speech_guard"]
    if guard["files"]:
        dropped = ", ".join(f"{n} {reason}" for reason, n in guard["dropped"].items()) or "none"
        table.add_row(
            "speech guard",
            f"{guard['files']} files: {guard['retried']} segments retried, dropped {dropped}",
        )
    table.add_row("vectors", ", ".join(f"{c}: {n}" for c, n in stats["vectors"].items()) or "none")
    table.add_row("spaces", ", ".join(f"{s} ({', '.join(c)})" for s, c in stats["spaces"].items()))
    table.add_row("models", ", ".join(f"{a}: {m}" for a, m in stats["models"].items()))
    out.print(table)
    for failure in stats["failures"]:
        print_failure(failure["path"], failure["error"])


Backend = Literal["faiss", "milvus"]


@app.command()
def copies(
    index: IndexOption,
    video: Annotated[
        Path | None, typer.Option(help="the footage to look for (or --all)")
    ] = None,
    all_pairs: Annotated[
        bool, typer.Option("--all", help="every pair of indexed files that share footage")
    ] = False,
    start: Annotated[float, typer.Option(help="look for --video from this second")] = 0.0,
    end: Annotated[float | None, typer.Option(help="look for --video up to this second")] = None,
    min_seconds: Annotated[
        float, typer.Option(help="shortest shared stretch reported, in seconds")
    ] = 2.0,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="output: table, json or csv")
    ] = "table",
    json_output: Annotated[bool, typer.Option("--json", help="same as --format json")] = False,
) -> None:
    """Reused footage: where the --video stretch appears in the archive, or (--all) every
    stretch two indexed files share; best first."""
    output_format = "json" if json_output else output_format
    if (video is None) == (not all_pairs) or output_format not in ("table", "json", "csv"):
        err.print("error: give --video FILE or --all, and --format table, json or csv")
        raise typer.Exit(EXIT_USAGE)
    with user_errors(), Library(index) as library:
        found = library.copies(video, start, end, min_seconds)
    rows = [copy.to_dict() for copy in found]
    if output_format == "json":
        out.print_json(json.dumps(rows))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COPY_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        table = Table("query", "path", "start", "end", "score")
        for copy in found:
            table.add_row(
                f"{copy.query_path or ''} {copy.query_start:.1f}-{copy.query_end:.1f}",
                copy.path, f"{copy.start:.2f}", f"{copy.end:.2f}", f"{copy.score:.3f}",
            )
        out.print(table if found else "no reused footage found")


@app.command()
def shotlist(
    files: Annotated[list[Path], typer.Argument(help="indexed video files")],
    index: IndexOption,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help=f"output: {', '.join(SHOTLIST_FORMATS)}")
    ] = "html",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="write the shot list to this file")
    ] = None,
) -> None:
    """Shot lists of indexed videos: per shot, in and out timecode, a thumbnail (html), what
    is said and what is written on screen. edl gives one CMX3600 event per shot."""
    if output_format not in SHOTLIST_FORMATS:
        err.print(f"error: --format must be one of {', '.join(SHOTLIST_FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    with user_errors(), Library(index) as library:
        shots = library.shot_list(files)
        title = "Shot list: " + ", ".join(f.name for f in files)
        text = write_shot_lists(shots, output_format, title)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"{len(shots)} shots written to {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def migrate(
    index: IndexOption,
    source: Annotated[Backend, typer.Option("--from", help="the store the index uses now")],
    target: Annotated[Backend, typer.Option("--to", help="the store to move the vectors to")],
    uri: Annotated[
        str | None,
        typer.Option(help="milvus: a .db file (default <index>/milvus.db) or http://host:19530"),
    ] = None,
    store_index: Annotated[
        str, typer.Option(help="index type in the new store: auto, or as store.index")
    ] = "auto",
    collection_prefix: Annotated[
        str | None, typer.Option(help="milvus: collections are <prefix>_<channel>")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Move an index's vectors to another store (FAISS files or Milvus), built from the catalog."""
    with user_errors(), Library(index) as library:
        report = library.migrate(
            target, uri=uri, index=store_index, collection_prefix=collection_prefix, source=source
        )
    if json_output:
        out.print_json(json.dumps(report))
        return
    where = f" at {report['uri']}" if report["uri"] else ""
    vectors = ", ".join(f"{c}: {n}" for c, n in report["vectors"].items()) or "no vectors"
    out.print(
        f"moved {vectors} from {report['from']} to {report['to']}{where} "
        f"in {report['seconds']:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@app.command("eval")
def eval_(
    manifest: Annotated[Path, typer.Option(help="dataset manifest: .csv, .json or .jsonl")],
    media_root: Annotated[Path, typer.Option(help="folder holding the manifest's media")],
    index: IndexOption,
    profile: ProfileOption = None,
    directions: Annotated[
        str, typer.Option(help="comma-separated: " + ",".join(DIRECTIONS))
    ] = ",".join(DIRECTIONS),
    manifest_format: Annotated[
        str | None, typer.Option("--manifest-format", help=f"{MANIFEST_FORMATS}; default: auto")
    ] = None,
    old_format: Annotated[
        str | None, typer.Option("--format", hidden=True, help="deprecated: --manifest-format")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Retrieval quality on a dataset: R@1/5/10, median and mean rank and mAP per direction."""
    if old_format is not None:
        if manifest_format is not None:
            err.print("error: give --manifest-format only (--format is its deprecated name)")
            raise typer.Exit(EXIT_USAGE)
        err.print(
            "warning: `mmr eval --format` is deprecated: use --manifest-format "
            "(--format names the output format in `mmr search`)",
            highlight=False,
            soft_wrap=True,
        )
        manifest_format = old_format

    def on_stage(stage: str, done: int, total: int) -> None:
        progress.update(INDEXING if stage == "index" else f"{stage} queries", done, total)

    with user_errors(), StageProgress() as progress:
        with Library(index, profile=profile) as library:
            report = library.evaluate(
                manifest,
                media_root,
                directions=directions,
                format=manifest_format or "auto",
                progress=on_stage,
            )
    if report.missing:
        shown = ", ".join(report.missing[:5]) + (" ..." if len(report.missing) > 5 else "")
        err.print(
            f"{len(report.missing)} items have no media under {media_root}: {shown}",
            highlight=False,
            soft_wrap=True,
        )
    if json_output:
        out.print_json(json.dumps(report.to_dict()))
    else:
        _print_eval(report)
    if report.failures:
        raise typer.Exit(EXIT_SOME_FAILED)


def _footage(task: Task) -> str:
    footage, seconds = task.fields["footage"], task.elapsed or 1e-9
    return f"files · {footage:.0f} s footage · {footage / seconds:.1f}x realtime"


def _print_eval(report: EvalReport) -> None:
    table = Table(
        title=f"{report.format} · {report.items} items · profile {report.profile} · "
        f"{report.wall_seconds:.1f} s"
    )
    for column in ("direction", "R@1", "R@5", "R@10", "MedR", "MeanR", "mAP", "queries"):
        table.add_column(column, justify="left" if column == "direction" else "right")
    for direction, metrics in report.results.items():
        if "skipped" in metrics:
            table.add_row(direction, f"[yellow]skipped: {metrics['skipped']}", *[""] * 6)
            continue
        table.add_row(
            direction,
            *(f"{metrics[key]:.1f}" for key in ("R@1", "R@5", "R@10", "MedR", "MeanR", "mAP")),
            f"{metrics['queries']} / {metrics['targets']}",
        )
    out.print(table)
    for failure in report.failures:
        out.print(
            f"[red]failed[/red] {failure['path']}: {failure['error']}",
            highlight=False,
            soft_wrap=True,
        )


def _print_report(report: IngestReport) -> None:
    rate = report.footage_seconds / report.wall_seconds if report.wall_seconds else 0.0
    out.print(
        f"indexed {report.count('indexed')}, unchanged {report.count('unchanged')}, "
        f"failed {report.count('failed')}, removed {report.count('removed')} · "
        f"{report.footage_seconds:.0f} s of footage in {report.wall_seconds:.1f} s "
        f"({rate:.1f}x realtime)"
    )
    for failure in report.failures:
        print_failure(failure.path, failure.error)


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        out.print("no hits")
        return
    frames = any(hit.frame_time is not None for hit in hits)  # only indexes with pictures
    languages = any(hit.language for hit in hits)  # only indexes that detected languages
    people = any(hit.speaker or hit.on_screen for hit in hits)  # only people-profile indexes
    table = Table(expand=True)
    table.add_column("#", justify="right")
    table.add_column("file", overflow="fold", ratio=2)
    table.add_column("span", no_wrap=True)
    if frames:
        table.add_column("frame", no_wrap=True)
    if languages:
        table.add_column("lang", no_wrap=True)
    if people:
        table.add_column("who", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("evidence", no_wrap=True)
    table.add_column("text", overflow="fold", ratio=4)
    for rank, hit in enumerate(hits, start=1):
        evidence = "\n".join(f"{k} {v:.2f}" for k, v in sorted(hit.evidence.items()))
        frame = ["" if hit.frame_time is None else clock(hit.frame_time)] if frames else []
        language = [hit.language or ""] if languages else []
        who = ["\n".join(filter(None, (hit.speaker, hit.on_screen)))] if people else []
        span = f"{clock(hit.start)}–{clock(hit.end)}"
        name, text = Text(Path(hit.path).name), Text(hit.text)  # plain text, never markup
        table.add_row(
            str(rank), name, span, *frame, *language, *who, f"{hit.score:.3f}", evidence, text
        )
    out.print(table)
    for note in hits[0].notes or ():  # said of the query, so the same on every hit
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)

