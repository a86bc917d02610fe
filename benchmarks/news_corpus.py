"""The ``news`` retrieval suite's corpus: quotations over busy moving pictures with captions.

Each clip is a short .mp4 news item: one person's quotation (written for this suite, full of
common words, with names and numbers) spoken by an espeak-ng voice over background sound (hum,
rumble and crowd-like noise), while the picture moves (a panning textured background and
drifting shapes) under a caption drawn in a bold or condensed-bold font at the font's own
letter and word spacing, as broadcast graphics are: a one-line lower third, a two-line lower
third (a name over a quotation) or a crawling ticker band. Captions are short quotations of
common words ("YOUR MOTIVES FOR DOING WHATEVER GOOD"), not the clip's own words, and many share
words with what other clips say ("THE FIRST TIME IS NOT THE LAST" on one clip, "it is not the
first time and it will not be the last" said in another). Queries, three kinds per clip:

- ``typed``: 3-5 consecutive spoken words that are all common ("i was never so"); other clips
  say the same words, scattered;
- ``spoken``: a stretch of the quotation with a name or number, spoken by a voice that no clip
  uses;
- ``screen``: 3-5 consecutive words of the caption, typed (other clips say some of them).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mmretrieval.testing.synth import Scene, make_audio, speak

FORMAT = 2  # bump when generation changes, so cached media are made anew
CLIP_VOICES = ("en-us", "en-gb-scotland", "en-us+f3", "en-gb-x-rp", "en-029")
QUERY_VOICES = ("en-gb", "en-us-nyc", "en-gb-x-gbclan+f2")  # never a clip's voice
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
)
LAYOUTS = ("lower third", "two lines", "ticker")
SIZE = (640, 360)
FPS = 15
RATE = 48000
LEAD = 0.6  # seconds before the speech starts
TAIL = 1.0
SOUND_SNR_DB = 15.0
SPEEDS = (140, 155, 170)


@dataclass(frozen=True)
class Conditions:
    """How the clips are spoken and heard: voices, speeds (wpm), background sound level."""

    voices: tuple[str, ...]
    speeds: tuple[int, ...]
    snr_db: float


# "hard" is for a dev split that still has typed misses to learn from: voices no clip or query
# of the other conditions uses, faster speech and louder background sound.
CONDITIONS = {
    "standard": Conditions(CLIP_VOICES, SPEEDS, SOUND_SNR_DB),
    "hard": Conditions(
        ("en-gb-x-gbcwmd", "en-us+m3", "en-gb-scotland+f2", "en-029+f4", "en-gb-x-rp+m5"),
        (190, 205, 220),
        6.0,
    ),
}

# (quotation, typed words, spoken words, caption, caption words). The caption's second line
# (after "|") is used by the two-line layout; the other layouts show the caption in one line.
ITEMS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "I was never so sure of anything in my life as I was that morning, said Margaret Olsen.",
        "i was never so sure",
        "that morning said Margaret Olsen",
        "MARGARET OLSEN|YOU WILL NEVER SEE ALL THE PLACES",
        "never see all the places",
    ),
    (
        "We took out of some of the old mills more than four hundred tons of scrap metal.",
        "out of some of the",
        "more than four hundred tons of scrap metal",
        "YOUR MOTIVES FOR DOING WHATEVER GOOD",
        "motives for doing whatever good",
    ),
    (
        "There is nothing so hard to see as the thing right in front of you, "
        "Professor Adeyemi said.",
        "so hard to see",
        "right in front of you Professor Adeyemi said",
        "PROFESSOR TUNDE ADEYEMI|THE FIRST TIME IS NOT THE LAST",
        "first time is not the last",
    ),
    (
        "If you want to go fast go alone, "
        "but we have always gone together, the mayor of Bristol said.",
        "go fast go alone",
        "we have always gone together the mayor of Bristol",
        "WE ARE ALL IN THIS TOGETHER",
        "all in this together",
    ),
    (
        "It is not the first time and it will not be the last, said coach Daniel Kowalczyk.",
        "not the first time",
        "said coach Daniel Kowalczyk",
        "DANIEL KOWALCZYK|NOTHING IS SO HARD AS WAITING",
        "nothing is so hard",
    ),
    (
        "What we do next is up to all of us, not just the council, said Priya Raman.",
        "what we do next",
        "not just the council said Priya Raman",
        "ONE DAY AT A TIME",
        "one day at a time",
    ),
    (
        "We have to go on as if nothing happened, because the children are watching us.",
        "have to go on",
        "because the children are watching us",
        "HOME IS WHERE WE START FROM",
        "home is where we start",
    ),
    (
        "They did not know what to do with twelve thousand letters, so they kept every one.",
        "they did not know",
        "twelve thousand letters so they kept every one",
        "WHAT WE DO NOT KNOW",
        "what we do not know",
    ),
    (
        "One more time the players came back from two goals down, "
        "and the crowd never stopped singing.",
        "one more time the",
        "came back from two goals down",
        "THE CHILDREN WATCH WHAT WE DO",
        "children watch what we do",
    ),
    (
        "We will be there on the first of June, rain or shine, said Helen Fairweather.",
        "we will be there",
        "rain or shine said Helen Fairweather",
        "HELEN FAIRWEATHER|THERE IS NO PLACE LIKE THE SEA",
        "no place like the sea",
    ),
    (
        "The rest of us just stood there and watched the roof come down in less than a minute.",
        "the rest of us",
        "the roof come down in less than a minute",
        "MORE THAN WE EVER KNEW",
        "more than we ever knew",
    ),
    (
        "In the middle of the night the water rose by two metres and we lost everything.",
        "in the middle of",
        "the water rose by two metres",
        "THE WATER REMEMBERS EVERYTHING",
        "the water remembers everything",
    ),
    (
        "At the end of the day it is the nurses who keep this hospital going, "
        "said Doctor Amara Obi.",
        "at the end of the day",
        "this hospital going said Doctor Amara Obi",
        "NOBODY WAS HURT, SAID THE MAYOR",
        "nobody was hurt said",
    ),
    (
        "You can never have too many friends or too many books, my grandmother used to say.",
        "never have too many",
        "too many books my grandmother used to say",
        "EVERY ONE OF US CAME BACK",
        "every one of us came back",
    ),
    (
        "All of a sudden the lights went out and nobody could find the door.",
        "all of a sudden",
        "the lights went out and nobody could find the door",
        "THE LIGHTS ARE ON AGAIN",
        "the lights are on again",
    ),
    (
        "I think we have waited long enough for this road, seventeen years is too long.",
        "waited long enough for",
        "seventeen years is too long",
        "TOO LONG WAITING FOR THE ROAD",
        "too long waiting for",
    ),
    (
        "Some of them had never been to the sea before, and they ran straight into the waves.",
        "had never been to",
        "they ran straight into the waves",
        "THE SEA WAS NEVER SO CALM",
        "the sea was never so",
    ),
    (
        "There was no one else on the road that night except the driver and me, said Tomas Novak.",
        "no one else on the",
        "the driver and me said Tomas Novak",
        "TOMAS NOVAK|ON THE ROAD AT NIGHT",
        "on the road at night",
    ),
    (
        "Nine out of ten people we asked said they would take the train if it were cheaper.",
        "if it were cheaper",
        "nine out of ten people we asked",
        "CHEAPER THAN THE TRAIN",
        "cheaper than the train",
    ),
    (
        "As long as I can still walk I will keep coming to this market every Saturday.",
        "as long as i can",
        "this market every Saturday",
        "EVERY SATURDAY AT THE MARKET",
        "every saturday at the market",
    ),
    (
        "It was the best of times for the shipyard, "
        "four thousand men worked here in nineteen sixty.",
        "it was the best",
        "four thousand men worked here in nineteen sixty",
        "THE BEST DAYS ARE BEHIND US",
        "the best days are behind",
    ),
    (
        "Nobody told us the bus would stop running after six, said Grace Mensah.",
        "nobody told us the",
        "after six said Grace Mensah",
        "GRACE MENSAH|THE LAST BUS HAS GONE",
        "the last bus has gone",
    ),
    (
        "We do it for the love of the game, not for the money, there is no money in it.",
        "not for the money",
        "we do it for the love of the game",
        "IT WAS NEVER ABOUT THE MONEY",
        "never about the money",
    ),
    (
        "Once upon a time this was the busiest street in Glasgow, now half the shops are empty.",
        "now half the shops",
        "the busiest street in Glasgow",
        "HALF THE TOWN IS EMPTY",
        "half the town is empty",
    ),
    (
        "I have been a farmer for forty one years and I have never seen a summer like this one.",
        "never seen a summer like",
        "a farmer for forty one years",
        "A SUMMER LIKE NO OTHER",
        "a summer like no other",
    ),
    (
        "Little by little the town came back to life after the factory closed, said Owen Price.",
        "little by little the",
        "after the factory closed said Owen Price",
        "OWEN PRICE|BACK ON OUR FEET AGAIN",
        "back on our feet again",
    ),
    (
        "The door is always open, that is what we tell every family who comes to us.",
        "the door is always open",
        "what we tell every family who comes to us",
        "THE DOOR WAS NEVER CLOSED",
        "the door was never closed",
    ),
    (
        "It took us three years and eleven months to build, and one afternoon to knock down.",
        "one afternoon to knock down",
        "three years and eleven months to build",
        "BUILT TO LAST, DOWN IN A DAY",
        "down in a day",
    ),
    (
        "If I could say one thing to the minister it would be come and see it for yourself.",
        "come and see it for yourself",
        "one thing to the minister",
        "THE MINISTER HAS NOT COME",
        "the minister has not come",
    ),
    (
        "Every single one of these trees was planted by a child from the village, said Ruth Adler.",
        "every single one of",
        "planted by a child from the village said Ruth Adler",
        "RUTH ADLER|A TREE FOR EVERY CHILD",
        "a tree for every child",
    ),
    (
        "We were told to wait and we waited and waited, for six hours in the cold.",
        "we waited and waited",
        "for six hours in the cold",
        "WE ARE STILL WAITING",
        "we are still waiting",
    ),
    (
        "There are more of us than you think who want to see the canal open again.",
        "more of us than you think",
        "want to see the canal open again",
        "MORE OF US THAN EVER",
        "more of us than ever",
    ),
    (
        "You never forget the first time you see the northern lights, said pilot Ingrid Berg.",
        "you never forget the first",
        "the northern lights said pilot Ingrid Berg",
        "INGRID BERG|THE NIGHT WE WILL NEVER FORGET",
        "the night we will never forget",
    ),
    (
        "Half of what we grow here goes to the school kitchen and the other half to the market.",
        "the other half to",
        "half of what we grow here goes to the school kitchen",
        "WHAT WE GROW WE SHARE",
        "what we grow we share",
    ),
    (
        "We are not going anywhere, this is our home and it has been for eighty years.",
        "we are not going anywhere",
        "it has been for eighty years",
        "WE WILL NOT BE MOVED",
        "we will not be moved",
    ),
    (
        "By the time the fire crews arrived there was nothing left of the barn, said Liam Doherty.",
        "by the time the",
        "nothing left of the barn said Liam Doherty",
        "LIAM DOHERTY|NOTHING LEFT BUT THE WALLS",
        "nothing left but the walls",
    ),
    (
        "I just want to say thank you to everyone who came out in the snow to look for him.",
        "came out in the snow",
        "thank you to everyone who came out",
        "HOME SAFE AFTER A NIGHT IN THE SNOW",
        "after a night in the snow",
    ),
    (
        "Two hundred and fifty new jobs will come to the port by the end of next year.",
        "will come to the port",
        "two hundred and fifty new jobs",
        "NEW JOBS BY NEXT YEAR",
        "new jobs by next year",
    ),
    (
        "What matters most is that nobody was hurt, the building can be put back together.",
        "what matters most is",
        "the building can be put back together",
        "WHAT MATTERS IS WHO WE ARE",
        "what matters is who we are",
    ),
    (
        "From here on out every bus in the city will run on electric power, said Yusuf Hassan.",
        "from here on out",
        "every bus in the city will run on electric power",
        "ELECTRIC FROM HERE ON",
        "electric from here on",
    ),
)


# The dev split: other quotations in the same style, to choose settings on without looking at
# the benchmark's own clips (``retrieval.py news --split dev``).
DEV_ITEMS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "We used to come down here every summer when we were young, said Edith Marlowe.",
        "every summer when we were",
        "when we were young said Edith Marlowe",
        "EDITH MARLOWE|THE SUMMERS WE HAD",
        "the summers we had",
    ),
    (
        "Most of the time we just sit and wait for the phone to ring, about thirty calls a night.",
        "most of the time we",
        "about thirty calls a night",
        "WAITING FOR THE CALL",
        "waiting for the call",
    ),
    (
        "I do not think anyone here has ever seen the river this high, said Colin Ferris.",
        "has ever seen the",
        "the river this high said Colin Ferris",
        "COLIN FERRIS|THE RIVER KEEPS RISING",
        "the river keeps rising",
    ),
    (
        "It was a long way to come but it was worth every minute of the nine hour drive.",
        "it was worth every",
        "every minute of the nine hour drive",
        "WORTH THE LONG WAY HOME",
        "worth the long way",
    ),
    (
        "You have to keep going even when you feel like giving up, said runner Leila Haddad.",
        "you have to keep going",
        "giving up said runner Leila Haddad",
        "LEILA HADDAD|NEVER GIVE UP ON A GOOD DAY",
        "never give up on",
    ),
    (
        "There is always something to do on a farm, the cows do not take a day off.",
        "there is always something",
        "the cows do not take a day off",
        "ALWAYS SOMETHING TO DO",
        "always something to do",
    ),
    (
        "We made it back just in time before the storm hit the coast at eleven o'clock.",
        "made it back just in",
        "before the storm hit the coast at eleven",
        "JUST IN TIME FOR THE STORM",
        "just in time for",
    ),
    (
        "Nobody really knows how long the bridge will stand, said engineer Marta Silva.",
        "nobody really knows how",
        "the bridge will stand said engineer Marta Silva",
        "MARTA SILVA|HOW LONG WILL IT STAND",
        "how long will it stand",
    ),
    (
        "For the first time in years the whole family was together in one room.",
        "the whole family was",
        "for the first time in years",
        "ONE FAMILY ONE ROOM",
        "one family one room",
    ),
    (
        "I would do it all over again if I had the chance, said veteran Arthur Benn.",
        "do it all over again",
        "if I had the chance said veteran Arthur Benn",
        "ARTHUR BENN|ALL OVER AGAIN",
        "all over again",
    ),
    (
        "The school has been open for a hundred and twenty years and we want to keep it that way.",
        "keep it that way",
        "open for a hundred and twenty years",
        "A SCHOOL FOR EVERY VILLAGE",
        "a school for every",
    ),
    (
        "When the music started everyone in the square began to dance, said Sofia Romano.",
        "when the music started",
        "everyone in the square began to dance said Sofia Romano",
        "SOFIA ROMANO|THE NIGHT THE SQUARE DANCED",
        "the night the square",
    ),
    (
        "We lost the first game but we won the next five in a row.",
        "we won the next",
        "we won the next five in a row",
        "FIVE IN A ROW",
        "five in a row",
    ),
    (
        "I have lived on this street all my life and I have never known it so quiet.",
        "all my life and",
        "I have lived on this street",
        "A QUIET STREET AT LAST",
        "a quiet street at",
    ),
    (
        "They came from all over the country to see the ship leave the harbour, said Ian Kerr.",
        "from all over the",
        "the ship leave the harbour said Ian Kerr",
        "IAN KERR|THE LAST SHIP TO LEAVE",
        "the last ship to leave",
    ),
    (
        "We will not stop until every house in the valley has clean water.",
        "we will not stop until",
        "every house in the valley has clean water",
        "CLEAN WATER FOR ALL",
        "clean water for all",
    ),
    (
        "There was so much snow that we could not open the front door for three days.",
        "so much snow that",
        "could not open the front door for three days",
        "SNOWED IN FOR DAYS",
        "snowed in for days",
    ),
    (
        "It is the little things that make a difference, said head teacher Nadia Petrova.",
        "it is the little things",
        "make a difference said head teacher Nadia Petrova",
        "NADIA PETROVA|SMALL THINGS MATTER MOST",
        "small things matter most",
    ),
    (
        "Back then you could buy a house here for less than ten thousand pounds.",
        "back then you could",
        "a house here for less than ten thousand pounds",
        "WHEN A HOUSE COST LESS",
        "when a house cost",
    ),
    (
        "We knew something was wrong as soon as we saw the smoke from the hill.",
        "as soon as we saw",
        "the smoke from the hill",
        "SMOKE OVER THE HILL",
        "smoke over the hill",
    ),
    (
        "It has taken a lot of hard work to get here, said captain Joseph Mwangi.",
        "a lot of hard work",
        "to get here said captain Joseph Mwangi",
        "JOSEPH MWANGI|HARD WORK PAYS OFF",
        "hard work pays off",
    ),
    (
        "The doors open at seven and there is already a line around the block.",
        "there is already a",
        "the doors open at seven",
        "A LINE AROUND THE BLOCK",
        "a line around the block",
    ),
    (
        "None of us had any idea how big the fish really was until we got it on the boat.",
        "none of us had any idea",
        "until we got it on the boat",
        "THE BIG ONE THAT DID NOT GET AWAY",
        "did not get away",
    ),
    (
        "I want my children to grow up in a place where they feel safe, said Amina Yusuf.",
        "in a place where",
        "where they feel safe said Amina Yusuf",
        "AMINA YUSUF|A SAFE PLACE TO GROW UP",
        "a safe place to grow",
    ),
    (
        "After all these years the old clock in the tower is working again.",
        "after all these years",
        "the old clock in the tower is working again",
        "TIME TO START AGAIN",
        "time to start again",
    ),
    (
        "We have had more visitors this spring than in the last three years together.",
        "more visitors this spring",
        "than in the last three years together",
        "THE BUSIEST SPRING YET",
        "the busiest spring yet",
    ),
    (
        "It is hard to say what will happen next, said economist Robert Lindqvist.",
        "hard to say what will",
        "what will happen next said economist Robert Lindqvist",
        "ROBERT LINDQVIST|WHAT HAPPENS NEXT",
        "what happens next",
    ),
    (
        "The bakery has been in the same family for four generations.",
        "in the same family for",
        "the bakery has been in the same family for four generations",
        "BREAD MADE THE OLD WAY",
        "bread made the old way",
    ),
    (
        "Everyone said it could not be done, and then we did it in two weeks.",
        "everyone said it could not",
        "and then we did it in two weeks",
        "IT COULD NOT BE DONE",
        "it could not be done",
    ),
    (
        "Out here you can go for days without seeing another person, said ranger Kate Holloway.",
        "go for days without",
        "seeing another person said ranger Kate Holloway",
        "KATE HOLLOWAY|DAYS WITHOUT ANOTHER SOUL",
        "days without another soul",
    ),
    (
        "I am just glad that it is all over and we can go back to our homes.",
        "it is all over and",
        "we can go back to our homes",
        "GOING BACK HOME",
        "going back home",
    ),
    (
        "The match was so close that nobody left their seat until the very last second.",
        "until the very last",
        "nobody left their seat until the very last second",
        "TO THE VERY LAST SECOND",
        "to the very last second",
    ),
    (
        "We are going to need a lot more help if we want to finish by the spring, said Omar Said.",
        "we are going to need",
        "finish by the spring said Omar Said",
        "OMAR SAID|HELP WANTED THIS SPRING",
        "help wanted this spring",
    ),
    (
        "What I remember most is the sound of the bells on the morning of the wedding.",
        "what i remember most is",
        "the sound of the bells on the morning of the wedding",
        "THE BELLS RANG OUT",
        "the bells rang out",
    ),
    (
        "This is the third time the road has flooded since the start of the year.",
        "the third time the",
        "the road has flooded since the start of the year",
        "FLOODED FOR THE THIRD TIME",
        "flooded for the third time",
    ),
    (
        "People do not always see how much the volunteers give, said organiser Chen Wei.",
        "do not always see how",
        "how much the volunteers give said organiser Chen Wei",
        "CHEN WEI|THEY GIVE THEIR TIME",
        "they give their time",
    ),
    (
        "We were only a few minutes from the top when the weather turned.",
        "only a few minutes from",
        "when the weather turned",
        "A FEW MINUTES FROM THE TOP",
        "a few minutes from the top",
    ),
    (
        "It is not every day you get to meet the people who built the first engine.",
        "it is not every day",
        "meet the people who built the first engine",
        "NOT EVERY DAY",
        "not every day",
    ),
    (
        "Some of the children had never seen a real horse before today, said farmer Greta Lund.",
        "some of the children had",
        "a real horse before today said farmer Greta Lund",
        "GRETA LUND|A DAY ON THE FARM",
        "a day on the farm",
    ),
    (
        "You can hear the trains from here all through the night, more than sixty of them.",
        "all through the night",
        "more than sixty of them",
        "ALL NIGHT LONG",
        "all night long",
    ),
)
SPLITS = {"test": ITEMS, "dev": DEV_ITEMS}


@dataclass(frozen=True)
class NewsClip:
    """One generated clip and its three queries."""

    id: str
    media: str  # relative to the corpus's media folder
    speech: str
    typed: str
    spoken: str
    caption: str
    screen: str
    voice: str
    speed: int
    snr_db: float  # speech to background sound
    query_voice: str
    font: str
    layout: str

    @property
    def named(self) -> str:
        """The spoken query's words typed: names and numbers as said ("more than sixty")."""
        return self.spoken

    @property
    def caption_lines(self) -> list[str]:
        parts = self.caption.split("|")
        return parts if self.layout == "two lines" else [" ".join(parts)]


def plan(
    clips: int, seed: int, split: str = "test", conditions: str = "standard"
) -> list[NewsClip]:
    """Which item, voice, font and layout each clip gets (fonts and layouts cycle); ``split``:
    ``test`` (the benchmark's quotations) or ``dev`` (others, for choosing settings);
    ``conditions``: a key of ``CONDITIONS``."""
    items = SPLITS[split]
    heard = CONDITIONS[conditions]
    if not 1 <= clips <= len(items):
        raise SystemExit(f"--clips must be between 1 and {len(items)} for news, got {clips}")
    rng = random.Random(seed)
    chosen = rng.sample(items, clips)
    result = []
    for i, (speech, typed, spoken, caption, screen) in enumerate(chosen):
        for words, where in ((typed, speech), (spoken, speech), (screen, caption)):
            plain = where.lower().replace(",", "").replace("|", " ").replace(".", "")
            if words.lower() not in plain:
                raise AssertionError(f"query {words!r} is not in {where!r}")
        two_line = "|" in caption
        layout = "two lines" if two_line else LAYOUTS[0 if i % 2 == 0 else 2]
        result.append(
            NewsClip(
                id=f"n{i:02d}",
                media=f"n{i:02d}.mp4",
                speech=speech,
                typed=typed,
                spoken=spoken,
                caption=caption,
                screen=screen,
                voice=heard.voices[i % len(heard.voices)],
                speed=rng.choice(heard.speeds),
                snr_db=heard.snr_db,
                query_voice=QUERY_VOICES[i % len(QUERY_VOICES)],
                font=FONTS[i % len(FONTS)],
                layout=layout,
            )
        )
    return result


def render(path: Path, clip: NewsClip, seed: int) -> None:
    """Write one clip: speech over background sound, moving picture with its caption."""
    speech = speak(clip.speech, voice=clip.voice, speed=clip.speed, sample_rate=RATE)
    duration = LEAD + len(speech) / RATE + TAIL
    frames = round(duration * FPS)
    samples = round(frames / FPS * RATE)
    rng = np.random.default_rng(seed)
    track = background_sound(samples, rng)
    start = round(LEAD * RATE)
    voice = np.zeros(samples, np.float32)
    voice[start : start + len(speech)] = speech[: samples - start]
    power = float(np.mean(np.square(speech, dtype=np.float64)))
    track *= np.sqrt(power / 10 ** (clip.snr_db / 10) / float(np.mean(np.square(track))))
    audio = np.clip(voice + track, -1.0, 1.0).astype(np.float32)
    pictures = moving_pictures(frames, clip, rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = *SIZE, "yuv420p"
        vstream.options = {"crf": "23", "preset": "fast", "g": str(2 * FPS)}
        astream = container.add_stream("aac", rate=RATE, layout="mono")
        written = 0
        for index, picture in enumerate(pictures):
            vframe = av.VideoFrame.from_ndarray(picture, format="rgb24")
            vframe.pts, vframe.time_base = index, Fraction(1, FPS)
            container.mux(vstream.encode(vframe))
            until = round((index + 1) * RATE / FPS)
            chunk = audio[written:until].reshape(1, -1)
            aframe = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            aframe.sample_rate, aframe.pts = RATE, written
            aframe.time_base = Fraction(1, RATE)
            container.mux(astream.encode(aframe))
            written = until
        container.mux(vstream.encode(None))
        container.mux(astream.encode(None))


def background_sound(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum, low rumble and a babble-like band of noise whose loudness wanders."""
    t = np.arange(samples) / RATE
    hum = 0.3 * np.sin(2 * np.pi * 50 * t) + 0.15 * np.sin(2 * np.pi * 150 * t)
    rumble = np.cumsum(rng.normal(0, 1, samples))
    rumble -= _moving_average(rumble, 4801)
    rumble /= np.abs(rumble).max() + 1e-9
    band = _moving_average(rng.normal(0, 1, samples), 15)
    band -= _moving_average(band, 151)  # roughly 300 Hz - 3 kHz, speech's band
    wander = 0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.28)) ** 2
    band *= wander / (np.abs(band).max() + 1e-9)
    return (hum + 0.5 * rumble + band).astype(np.float32)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    padded = np.concatenate([[0.0], np.cumsum(np.pad(x, (width // 2, width - 1 - width // 2)))])
    return (padded[width:] - padded[:-width]) / width


def moving_pictures(frames: int, clip: NewsClip, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """A panning colour texture with drifting shapes, and the caption in its layout."""
    width, height = SIZE
    small = rng.uniform(30, 225, (height // 12 + 4, width // 12 + 30, 3)).astype(np.float32)
    texture = cv2.resize(small, None, fx=12, fy=12, interpolation=cv2.INTER_CUBIC)
    detail = rng.uniform(-35, 35, texture.shape[:2])[..., None].astype(np.float32)
    texture = np.clip(texture + detail, 0, 255)
    shapes = [
        (rng.uniform(0, width), rng.uniform(0, height), rng.uniform(15, 60), rng.uniform(-40, 40),
         rng.uniform(-20, 20), tuple(int(c) for c in rng.integers(0, 255, 3)))
        for _ in range(6)
    ]
    font = caption_font(clip, 26 if clip.layout != "ticker" else 22, int(width * 0.88))
    band = caption_band(clip, font)
    for i in range(frames):
        t = i / FPS
        x = int(t * 20) % (texture.shape[1] - width)
        picture = Image.fromarray(texture[:height, x : x + width].astype(np.uint8))
        draw = ImageDraw.Draw(picture)
        for cx, cy, r, vx, vy, colour in shapes:
            px, py = (cx + vx * t) % width, (cy + vy * t) % height
            draw.ellipse((px - r, py - r, px + r, py + r), fill=colour)
        if clip.layout == "ticker":
            left = int(width * 0.3 - t * 12)
            picture.paste(band, (max(left, -band.width + 40), height - band.height - 6))
        else:
            picture.paste(band, (int(width * 0.05), height - band.height - int(height * 0.07)))
        yield np.asarray(picture)


def caption_font(clip: NewsClip, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The clip's font at ``size``, or smaller until its longest line fits ``max_width``."""
    while True:
        font = ImageFont.truetype(str(FONT_DIR / clip.font), size)
        if size <= 14 or max(font.getlength(line) for line in clip.caption_lines) <= max_width:
            return font
        size -= 1


def caption_band(clip: NewsClip, font: ImageFont.FreeTypeFont) -> Image.Image:
    """The caption as broadcast graphics draw it: the font's own spacing, on a solid box."""
    lines = clip.caption_lines
    pad = 8
    ascent, descent = font.getmetrics()
    widths = [font.getlength(line) for line in lines]
    box = Image.new("RGB", (int(max(widths)) + 2 * pad, (ascent + descent) * len(lines) + 2 * pad))
    draw = ImageDraw.Draw(box)
    colours = ((185, 20, 30), (20, 30, 90)) if clip.layout != "ticker" else ((240, 200, 0),)
    draw.rectangle((0, 0, box.width, box.height), fill=colours[0])
    if len(lines) == 2:
        split = pad + ascent + descent
        draw.rectangle((0, split, box.width, box.height), fill=colours[1])
    ink = (0, 0, 0) if clip.layout == "ticker" else (255, 255, 255)
    for n, line in enumerate(lines):
        draw.text((pad, pad + n * (ascent + descent)), line, font=font, fill=ink)
    return box


def build(folder: Path, clips: Sequence[NewsClip], seed: int) -> None:
    """Render every clip and its spoken query into ``folder`` (media/, queries/)."""
    for number, clip in enumerate(clips):
        render(folder / "media" / clip.media, clip, seed * 1000 + number)
        scene = Scene(clip.spoken, voice=clip.query_voice, speed=160)
        make_audio(folder / "queries" / f"{clip.id}.wav", [scene])
