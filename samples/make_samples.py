"""Make the demo media in samples/ from scratch (deterministic; needs espeak-ng and DejaVu fonts).

Usage: python samples/make_samples.py [OUT_DIR]    (default: the folder this script lives in)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run from a checkout without installing: the samples should match the code next to them.
sys.path.insert(0, str(HERE.parent))

from mmretrieval.testing.synth import Scene, make_audio, make_video, write_subtitles  # noqa: E402

FLOOD = [
    Scene(
        speech="The environment minister visited Reading today to announce new flood "
        "defences along the river Thames.",
        caption="FLOOD DEFENCES: MINISTER VISITS READING",
        background=(40, 60, 90),
    ),
    Scene(
        speech="Residents say the river burst its banks three times last winter, "
        "flooding homes and closing roads.",
        caption="THAMES FLOODED THREE TIMES LAST WINTER",
        background=(45, 75, 70),
    ),
    Scene(
        speech="Forecasters expect more heavy rainfall this week, with up to forty "
        "millimetres in parts of Berkshire.",
        caption="WEATHER: HEAVY RAIN THIS WEEK",
        background=(70, 70, 80),
    ),
    Scene(
        speech="The Met Office has issued a yellow warning for rain across the south of "
        "England until Friday.",
        caption="YELLOW WARNING FOR RAIN UNTIL FRIDAY",
        background=(90, 80, 30),
    ),
]

ELECTION = [
    Scene(caption="BREAKING: POLLS CLOSE AT 10PM", duration=3.0, background=(110, 20, 30)),
    Scene(
        speech="Polls have now closed and counting is under way in every constituency.",
        caption="ELECTION NIGHT LIVE",
        background=(30, 40, 100),
    ),
    Scene(
        speech="Officials say that the turnout reached sixty two percent, the highest in "
        "twenty years.",
        caption="TURNOUT: 62%",
        background=(30, 40, 100),
    ),
    Scene(
        speech="The first results are expected shortly after midnight.",
        caption="ELECTION NIGHT LIVE",
        background=(60, 30, 90),
    ),
]

HARBOUR = [
    Scene(
        speech="A large fire broke out at the harbour this morning, sending thick smoke "
        "across the town.",
        caption="FIRE AT THE HARBOUR",
        background=(100, 45, 20),
    ),
    Scene(
        speech="Firefighters used boats to reach the burning warehouse on the quay.",
        caption="FIREFIGHTERS TACKLE WAREHOUSE BLAZE",
        background=(90, 35, 25),
    ),
    Scene(
        speech="No one was injured, and the coastguard has asked people to avoid the area.",
        caption="PUBLIC ASKED TO AVOID THE AREA",
        background=(30, 60, 80),
    ),
]

RADIO = [
    Scene(speech="Good evening. This is the news.", voice="en-gb"),
    Scene(
        speech="Train drivers will go on strike tomorrow, and rail services across the north "
        "will be cancelled.",
        voice="en-gb",
    ),
    Scene(
        speech="Please check before you travel. Buses will replace some trains.",
        voice="en-gb",
    ),
    Scene(speech="That is the end of the news.", voice="en-gb"),
]


# A spoken question for the demo's audio query (kept apart from the footage it searches).
QUERY = [Scene(speech="Where did the fire break out at the harbour?", voice="en-us+f3")]


def main(out_dir: Path) -> None:
    """Write every sample into ``out_dir`` and print what was made."""
    footage, queries = out_dir / "footage", out_dir / "queries"
    footage.mkdir(parents=True, exist_ok=True)
    queries.mkdir(parents=True, exist_ok=True)
    make_video(footage / "flood_defences.mp4", FLOOD, seed=1)
    make_video(footage / "election_night.mp4", ELECTION, seed=2)
    spans = make_video(footage / "harbour_fire.mp4", HARBOUR, seed=3)
    write_subtitles(footage / "harbour_fire.srt", spans)
    make_audio(footage / "radio_bulletin.mp3", RADIO, seed=4)
    make_audio(queries / "where_was_the_fire.mp3", QUERY, seed=5)
    names = [
        "footage/flood_defences.mp4",
        "footage/election_night.mp4",
        "footage/harbour_fire.mp4",
        "footage/harbour_fire.srt",
        "footage/radio_bulletin.mp3",
        "queries/where_was_the_fire.mp3",
    ]
    total = 0
    for name in names:
        size = (out_dir / name).stat().st_size
        total += size
        print(f"{size / 1024:8.1f} KiB  {out_dir / name}")
    print(f"{total / 1024:8.1f} KiB  total")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
