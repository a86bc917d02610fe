"""Writes ``moderation_corpus.txt``: the labelled sentences the moderation heads are trained on.

    python mmretrieval/data/moderation_corpus.py          # rewrites the corpus next to this file

Every sentence is built from the templates and word pools below (written for this project,
Apache-2.0 like the rest of it), drawn with a fixed seed, so the file is the same on every run.
Each group gives the categories its sentences belong to (``-``: none) and a few hundred
sentences; the negative groups are the hard cases a moderation queue must let through:
figurative speech, fiction, news *about* violence, sport, medicine, cooking, history and
ordinary talk. Line format: ``categories<TAB>group<TAB>sentence``, categories comma-separated.

The benchmark (benchmarks/moderation_corpus.py) writes its own sentences from other templates
and checks that none of them is in this file.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent / "moderation_corpus.txt"
SEED = 16
PER_GROUP = 400  # sentences per positive group; negative groups give NEGATIVE_SHARE of that
NEGATIVE_SHARE = 0.75
FRAGMENTS = 400  # pieces of the ordinary sentences, a few words each (``_fragments``)
MISHEARD = 400  # ordinary sentences with words swapped for other ordinary ones (``_misheard``)

PERSON = [
    "you", "him", "her", "that guy", "your brother", "the landlord", "my neighbour", "the boss",
    "that snitch", "your friend", "the driver", "his cousin", "that old man", "the new kid",
    "the cashier", "your wife", "her boyfriend", "the teacher", "that reporter", "the referee",
]
GROUP = [
    "immigrants", "Muslims", "Jews", "black people", "gay people", "refugees", "foreigners",
    "Mexicans", "Roma", "women", "Asians", "trans people", "Christians", "Africans",
    "Arabs", "Pakistanis", "Polish workers", "migrants", "asylum seekers", "Gypsies",
]
VERMIN = [
    "vermin", "rats", "parasites", "animals", "cockroaches", "a disease", "filth", "savages",
    "subhuman", "a plague", "dirty", "scum", "a cancer on this country", "criminals by nature",
    "less than human", "trash",
]
WHEN = [
    "tonight", "tomorrow", "after school", "when you get home", "next time I see you",
    "this weekend", "before the sun comes up", "as soon as he walks out", "on Friday",
    "when nobody is looking", "right now", "in the car park",
]
WEAPON = [
    "a gun", "a pistol", "a rifle", "a shotgun", "a knife", "a machete", "a handgun",
    "an AR-15", "a Glock", "a nine millimetre", "a sawn-off", "a blade", "a revolver",
    "an assault rifle", "a hunting knife", "a baseball bat with nails in it",
]
DRUG = [
    "coke", "cocaine", "heroin", "meth", "crystal", "crack", "ecstasy", "MDMA", "pills",
    "molly", "ket", "ketamine", "speed", "smack", "weed", "skunk", "acid", "fentanyl",
    "oxy", "spice", "lean", "shrooms",
]
AMOUNT = [
    "a gram", "an ounce", "two grams", "a bag", "a half", "a key", "a few pills", "a point",
    "an eighth", "ten tabs", "a brick", "a wrap", "a couple of grams", "a whole kilo",
]
HURT = [
    "kill", "stab", "shoot", "beat", "strangle", "cripple", "knee-cap", "maim",
    "put a bullet in", "glass", "torch", "run over", "bury", "hurt", "batter", "slash", "gut",
    "beat the life out of", "smash up", "choke",
]
SELF = [
    "kill myself", "end my life", "end it all", "hang myself", "cut myself", "take all my pills",
    "jump off the bridge", "overdose", "slit my wrists", "not wake up", "disappear for good",
    "hurt myself", "step in front of a train", "stop living",
]
FEEL = [
    "I can't do this anymore", "nobody would miss me", "I'm a burden to everyone",
    "there's no point in going on", "everyone would be better off without me",
    "I just want the pain to stop", "I've written the letters already", "I'm so tired of living",
    "I hate myself", "I don't see a way out",
]
BODY = ["arm", "legs", "jaw", "nose", "fingers", "ribs", "neck", "knees", "teeth", "skull"]
UNTIL = [
    "they can't stand", "they stop screaming", "they beg", "nobody recognises them",
    "they can't walk", "they're unconscious", "they're in a wheelchair", "they stop breathing",
]
STASH = [
    "in my sock", "in the glovebox", "under my mattress", "in my jacket", "behind the boiler",
    "in the boot", "in my waistband", "in a shoebox", "inside my boot", "under the floorboards",
]
EVENT = [
    "the festival", "the rave", "the house party", "the after-party", "the gig", "the beach",
    "Glastonbury", "her birthday", "the warehouse party", "new year",
]
USE = [
    "do a few lines", "drop a pill", "take a bump", "smoke a joint", "roll a spliff",
    "do some blow", "take some tabs", "get stoned", "get off our faces", "shoot up",
    "rack up some lines", "have a smoke of crack",
]
METHOD = [
    "burn myself with a lighter", "scratch my skin until it bleeds", "cut my thighs",
    "hit myself until I bruise", "starve myself for days", "swallow handfuls of pills",
    "drink bleach", "punch the wall until my knuckles break",
]
HIGH = ["the bridge", "the viaduct", "the cliffs", "the tower block", "my balcony"]
PLACE = [
    "the park", "the station", "the school gates", "the estate", "the club", "the bus stop",
    "the car park", "the chip shop", "the back alley", "the square", "the garage", "the pub",
]

TEMPLATES: dict[str, tuple[str, list[str]]] = {
    # -- positives ------------------------------------------------------------------------
    "threats": (
        "violence",
        [
            "You're a dead man walking.",
            "Say one more word and you'll be eating through a straw.",
            "I'm going to hurt you so bad you'll never forget it.",
            "Watch your back, because I'm coming for you.",
            "He's going to get what's coming to him, I'll see to it.",
            "Let's go and teach {person} a lesson they won't forget.",
            "I'll smash your face in if you look at me like that again.",
            "We're going to do him over {when}.",
            "Tell {person} to sleep with one eye open.",
            "I'd love to put my fist through {person}'s face.",
            "Go near my sister again and you won't be walking home.",
            "I'll burn your house down with your family in it.",
            "Lure {person} to {place} and we'll jump them.",
            "Kill him, I don't care how, just get it done.",
            "I'm going to break your legs so you can never run again.",
            "We battered him and left him in a ditch, serves him right.",
            "I'll choke the life out of {person} with my own hands.",
            "Find out where {person} lives, we're paying a visit {when}.",
            "You have until Friday or you'll end up in the river.",
            "I hope someone beats {person} to death.",
            "Smash his kneecaps so he remembers who's in charge.",
            "Keep punching until {until}, don't stop for anything.",
            "I'm going to bash {person}'s {body} in.",
            "We'll make {person} disappear and no one will ever find the body.",
            "Snap her neck if she screams.",
            "Rip him apart, I want him in pieces.",
            "I'll put you in the ground, I swear it.",
            "Cross me again and I'll cut your throat.",
            "I beat him black and blue and I'd do it again.",
            "He's going to end up in intensive care when I'm finished.",
            "I'm going to {hurt} {person} {when}.",
            "I swear I will {hurt} {person} {when}.",
            "If {person} opens their mouth again I'll {hurt} them.",
            "Tell {person} I'm coming to {hurt} them {when}.",
            "We should find {person} and {hurt} them.",
            "Let's wait at {place} and {hurt} {person} {when}.",
            "{Person} is dead, I'm going to {hurt} them {when}.",
            "I know where the landlord lives and I'm going to {hurt} him.",
            "Give me one reason not to {hurt} {person} right here.",
            "Next time I'll {hurt} {person} and nobody will stop me.",
            "Round up the lads, we're going to {hurt} {person} {when}.",
            "I want to watch {person} bleed.",
            "I'll beat {person} until they stop breathing.",
            "Keep talking and I'll {hurt} you and your whole family.",
            "We kicked him in the head until he stopped moving and it felt great.",
            "Grab {person} and drag them to {place}, we'll finish them there.",
            "You're going to die {when}, I promise you.",
            "I'll torture {person} slowly so they feel every second.",
            "Someone needs to {hurt} {person}, and it's going to be me.",
            "We jumped {person} at {place} and stamped on their head.",
            "{Person} is going to pay for this in blood.",
            "I'm going to snap {person}'s {body} like a twig.",
            "Hold {person} down while I break their {body}.",
            "Catch {person} on their own at {place} and don't stop until {until}.",
            "We'll keep kicking {person} until {until}.",
            "We gave {person} a kicking until {until}.",
            "Creep in while {person} is asleep and finish them off.",
            "Wrap your hands round {person}'s throat and squeeze.",
            "{Person} won't live to see the weekend, I'll make sure of it.",
            "Touch my stuff again and I'll rip your head off.",
            "I'm going to make {person} scream, they'll be begging me to stop.",
            "Pay up or I'll hurt your children.",
            "Get the lads, we're going to put {person} in hospital {when}.",
            "Nobody disrespects me like that, I'm going to make him bleed.",
            "I'll cave his head in with a brick.",
            "Drag her into the van and teach her a lesson she won't forget.",
            "If I catch you again I'll cut you open.",
            "We should set fire to his car with him inside it.",
            "I want him dead, and I'll do it myself.",
            "Beat him so badly his own mother won't know him.",
            "I'll kick your teeth down your throat.",
            "Let's go round there and smash the whole family up.",
            "You're going to get hurt, really hurt, and soon.",
            "Give me the bat, I'm going to finish what I started.",
            "One of these days I'm going to snap and kill somebody in this office.",
            "Hit her again, harder, until she shuts up.",
            "I'll hunt you down and make you wish you were never born.",
            "We'll break his fingers one by one until he talks.",
            "Stamp on his head, go on, do it.",
            "I'll strangle that dog and then I'll come for you.",
            "I'm going to bash his brains out the next time he speaks to me.",
        ],
    ),
    "weapons": (
        "weapons",
        [
            "I've got a strap, it's loaded and it's in the car.",
            "Can you lend me your piece {when}?",
            "He showed me the gun he keeps {stash}.",
            "I'm never without {weapon}, not since last summer.",
            "We need a clean gun, one that's never been used.",
            "Bring the nine, we might need it.",
            "There's {weapon} wrapped in a towel {stash}.",
            "Buy the rifle from him, he doesn't ask for papers.",
            "Sawn-off shotguns are easy to hide under a coat.",
            "I sharpened {weapon} and I'm taking it tonight.",
            "Grind the numbers off before you sell it on.",
            "You can get a gun delivered if you know who to ask.",
            "Put {weapon} in your bag and come to {place}.",
            "I'm carrying, so don't start anything.",
            "Keep {weapon} close, it's going to kick off.",
            "I got myself {weapon} for protection, no licence.",
            "He's selling homemade guns out of his shed.",
            "Load the magazine and keep it under the counter.",
            "Get me bullets for {weapon} by the weekend.",
            "I've hidden {weapon} where the police won't look.",
            "I've got {weapon} in my bag if anything kicks off.",
            "I can sell you {weapon}, no serial number, cash only.",
            "Bring {weapon} to {place} {when}.",
            "He keeps {weapon} under the seat, loaded.",
            "Where can I buy {weapon} without a licence?",
            "I'm carrying {weapon} everywhere now.",
            "My cousin can get you {weapon} by the weekend.",
            "Filed the serial off {weapon} and stashed it at {place}.",
            "Teach me how to convert {weapon} to fully automatic.",
            "You'll want {weapon} and a box of rounds for this job.",
            "Hide {weapon} in your waistband before we go in.",
            "I need {weapon} that can't be traced back to me.",
            "Pull out {weapon} and wave it in their faces.",
            "He showed me {weapon} and said it's for {person}.",
            "Got {weapon} for sale, ammo included, meet me at {place}.",
            "Print the parts for {weapon} at home, nobody checks.",
            "Pass me {weapon}, I'm going back in there.",
            "I tucked {weapon} in my jacket before school.",
            "I keep {weapon} {stash} just in case.",
            "{Weapon} goes {stash} whenever I leave the flat.",
            "Never leave the house without {weapon}, trust me.",
            "Stash {weapon} {stash} so the police don't find it.",
            "There's {weapon} {stash}, it's loaded.",
            "I'm tooled up, I've got {weapon} {stash}.",
            "He's selling {weapon} and bullets out of {place}.",
            "I've got a piece on me, don't make me use it.",
            "He's strapped, so be careful when you go in.",
            "Can you get me a burner gun, no questions asked?",
            "The shank is hidden in my shoe.",
            "Keep the shotgun loaded by the door.",
            "I always carry a flick knife for protection.",
            "We need more ammunition before Saturday.",
            "My uncle can sell you a rifle off the books.",
            "Bring the tools, and I don't mean spanners.",
            "There's a knuckle duster and a blade in the glovebox.",
            "I bought a converted pistol from a guy in a car park.",
            "Pack the gun in the gym bag under the towels.",
            "You can buy a zombie knife online for thirty quid.",
            "Wrap the gun in a cloth and bury it in the garden.",
        ],
    ),
    "armed_threats": (
        "violence,weapons",
        [
            "I'm going to shoot {person} with {weapon} {when}.",
            "I'll stab {person} with {weapon} {when}.",
            "Bring {weapon}, we're going to {hurt} {person} at {place}.",
            "I'll put {weapon} to {person}'s head and pull the trigger.",
            "Load {weapon}, we're hitting {place} {when} and nobody walks out.",
        ],
    ),
    "drugs": (
        "drugs",
        [
            "Any chance you can sort me some {drug}?",
            "I'm buzzing, that {drug} was strong.",
            "He owes me for {amount} of {drug}.",
            "Send someone to drop {amount} at {place}.",
            "Who's holding? I need a bag.",
            "Let's get wrecked on {drug} {when}.",
            "We were up all night on {drug}.",
            "I'll do you {amount} for cash, meet me at {place}.",
            "I've been using {drug} to get through my shifts.",
            "The dealer round the corner does the best {drug}.",
            "I sell to kids at {place}, they pay better.",
            "Roll one up, I want to get high.",
            "He's running a line out of {place}, selling {drug}.",
            "Got {amount} of {drug} in my pocket, want some?",
            "Keep the {drug} in the car, the dogs are out tonight.",
            "I'm hooked on {drug} and I don't want to stop.",
            "Let's cook a fresh batch {when}.",
            "Get a few grams in for the weekend.",
            "We're off our heads on {drug} again.",
            "Score us some {drug} before {event}.",
            "I can get you {amount} of {drug} {when}.",
            "How much for {amount} of {drug}?",
            "Meet me at {place}, I've got the {drug}.",
            "We did {amount} of {drug} and partied all night.",
            "I need some {drug}, who's selling?",
            "He's been dealing {drug} out of {place}.",
            "Let's get high on {drug} {when}.",
            "I'm selling {drug}, {amount} for forty quid.",
            "Cut the {drug} with baking soda so it goes further.",
            "Text my dealer, we need more {drug} {when}.",
            "I snorted {amount} of {drug} before work.",
            "You can cook {drug} in a trailer with this kit.",
            "Drop the {drug} off at {place} and don't get caught.",
            "Smoked {drug} all weekend and I'm still buzzing.",
            "Bag up {amount} of {drug} for the customer at {place}.",
            "I've been shooting up {drug} every day this week.",
            "Who wants to split {amount} of {drug} {when}?",
            "Hide the {drug} in your sock before the police come.",
            "Can you sort me out with {amount} of {drug}?",
            "We're moving {amount} of {drug} across town {when}.",
            "Come over and we'll {use} first.",
            "{Drug} at {event} was the best night of my life.",
            "Fancy coming round to {use} {when}?",
            "I was off my face on {drug} at {event}.",
            "We need to {use}, ring the plug.",
            "Give the runner the {drug} and tell him to keep it in his pants.",
            "I sorted {amount} of {drug} for {event}.",
            "Everybody was high on {drug} at {event}.",
            "Pass the baggie, I want to {use}.",
            "My plug just dropped off a fresh batch of pills.",
            "We were wasted on pills and coke until Monday.",
            "Got any gear? I'm rattling.",
            "Meet me by the bins, I'll have the stuff.",
            "He deals out of the back of the ice cream van.",
            "I've been on the gear for three years now.",
            "Score me some charlie for the weekend, will you?",
            "Let's get high before the gig.",
            "The runner brings the baggies over after school.",
            "We grow skunk in the loft under lamps.",
            "I'm completely mashed, what did you put in that drink?",
            "Stash the pills in the speaker so the dogs can't smell them.",
            "She sells tabs at the festival every year.",
            "I'm out of weed, who can sort me?",
        ],
    ),
    "self_harm": (
        "self_harm",
        [
            "I don't want to wake up tomorrow.",
            "I've been thinking about ending things.",
            "I just want to die.",
            "I'm going to {self}, I've made up my mind.",
            "Life isn't worth living any more.",
            "I've been hurting myself again and hiding the marks.",
            "My family would be better off if I wasn't here.",
            "I'm thinking of taking my own life.",
            "There's no reason for me to stay alive.",
            "I've saved enough pills to {self}.",
            "I looked up how many tablets it would take.",
            "I've been burning myself so I can feel something.",
            "When I'm alone I {method}.",
            "I'm going to {self} after everyone's asleep.",
            "This is goodbye, I won't be here next week.",
            "I wish I could just fall asleep and never come back.",
            "I want to disappear forever.",
            "I keep thinking about the easiest way to go.",
            "I can't stop cutting, it's the only thing that helps.",
            "I've written letters for everyone, it's time.",
            "I want to {self}.",
            "I'm going to {self} {when}.",
            "{Feel}, I want to {self}.",
            "{Feel}.",
            "Sometimes I think about how I'd {self}.",
            "I've been planning to {self}.",
            "{Feel} and I keep thinking I should {self}.",
            "Tonight I'm going to {self} and nobody can stop me.",
            "I've started to {self} again and I can't stop.",
            "What's the easiest way to {self}?",
            "If tomorrow is like today I'll {self}.",
            "I hid the razor blades so I can {self} later.",
            "I wrote goodbye to my mum because I'm going to {self}.",
            "I've been cutting my arms every night so I can feel something.",
            "I stockpiled pills so I can {self}.",
            "{Feel}, so this is my last message.",
            "I burn my skin with a lighter when it gets too much.",
            "I stood on the edge of the roof again last night wanting to {self}.",
            "When it all gets too much I {method}.",
            "I've started to {method} again.",
            "Nobody knows that I {method} every night.",
            "I'm going to jump from {high} {when}.",
            "I've been hoarding my prescription so I can take it all at once.",
            "I keep going up to {high} and thinking about jumping.",
            "I'm done, I don't want to carry on.",
            "I've been searching for ways to {self}.",
            "I've decided tonight is the night I end it.",
            "I keep a blade in my drawer for when it gets bad.",
            "Everybody would be better off if I just disappeared.",
            "I've got nothing left to live for.",
            "I took a whole packet of paracetamol last night on purpose.",
            "I think about dying every single day.",
            "I'm going to drive into a wall on the motorway.",
            "The only thing that stops the pain is cutting.",
            "I've been scratching my arms until they bleed.",
            "I want to go to sleep forever.",
            "I said goodbye to everyone today, they just don't know it yet.",
            "If I'm not here tomorrow, don't look for me.",
            "I can't keep living like this, I'm ready to die.",
            "I punched the mirror and used the glass on my wrists.",
        ],
    ),
    "hate": (
        "hate_speech",
        [
            "I hate {group}, every last one of them.",
            "{Group} are taking over and we need to stop them by force.",
            "Don't let {group} into our neighbourhood, they're {vermin}.",
            "{Group} should be locked up for what they are.",
            "There are too many {group}, it's time to get rid of them.",
            "{Group} are a stain on this country.",
            "We'd be better off if {group} were wiped out.",
            "{Group} are stupid and dirty, everybody knows it.",
            "Never trust {group}, they're born liars.",
            "Round up the {group} and throw them out.",
            "{Group} are freaks and they make me sick.",
            "{Group} aren't human, they're {vermin}.",
            "Burn out the {group} and take back the town.",
            "{Group} are infecting everything they touch.",
            "This country was fine before the {group} came.",
            "{Group} are {vermin}.",
            "All {group} are {vermin} and should be sent back.",
            "We need to get rid of {group}, they're {vermin}.",
            "{Group} shouldn't be allowed to live here.",
            "I'd never let {group} near my children, they're {vermin}.",
            "Kick every last one of the {group} out of this country.",
            "{Group} are ruining everything, they're {vermin}.",
            "It's time to take back our streets from the {group}.",
            "The {group} breed like {vermin}.",
            "Someone should burn down the homes of those {group}.",
            "{Group} don't deserve rights, they're {vermin}.",
            "You can't trust {group}, they're all {vermin}.",
            "Our race is pure and the {group} are poisoning it.",
            "The world would be better without {group}.",
            "Gas the {group}, every single one.",
            "Don't rent to {group}, they're {vermin}.",
            "Those {group} are {vermin} who should go back where they came from.",
            "Hang the {group} from the lamp posts.",
            "Those people are animals and they should be put down.",
            "Send them all back on the boats they came in on.",
            "I wouldn't let one of them clean my house, they're filthy.",
            "They're breeding like rabbits and replacing us.",
            "Their religion is a disease, we need to wipe it out.",
            "People like that shouldn't be allowed to have children.",
            "They're not real people, they're apes.",
            "Get those queers out of our town.",
            "Every mosque should be burnt to the ground.",
            "The only good foreigner is one on a plane home.",
            "They stink, all of them, it's in their blood.",
            "Women like her belong in the kitchen, not in charge.",
        ],
    ),
    # -- hard negatives -------------------------------------------------------------------
    "figurative": (
        "-",
        [
            "I'm dying to see the new film.",
            "That test murdered me.",
            "We're going to slaughter them at the quiz tonight.",
            "She'll kill me if I'm late again.",
            "My boss is going to murder me for this.",
            "I nearly died of embarrassment.",
            "This heat is killing me.",
            "He was shot down in flames by the committee.",
            "The silence was deafening and it cut like a knife.",
            "I'm going to strangle this printer.",
            "The comedian knocked them dead every night.",
            "That comedian absolutely killed it {when}.",
            "This traffic is killing me.",
            "I could murder a cup of tea right now.",
            "She slayed that presentation {when}.",
            "My feet are killing me after that walk to {place}.",
            "He's dying to tell you the news.",
            "I nearly died laughing at {place}.",
            "You'll knock them dead at the interview.",
            "That joke bombed, it died a death.",
            "We're going to crush the competition this quarter.",
            "The band blew the roof off the club {when}.",
            "Break a leg {when}!",
            "I'd kill for a holiday right now.",
            "My phone battery is dead again.",
            "Do not weep for me, I go where the rivers sleep.",
            "The summer died in a blaze of gold.",
            "We fell like autumn leaves into the evening.",
            "Her smile could kill a man at twenty paces.",
            "The poet wrote of drowning in a sea of stars.",
            "Let me sink into the silence of the snow.",
            "The dying light painted the hills with fire.",
            "I am the ghost of all my yesterdays.",
            "My heart broke into a thousand pieces that night.",
            "The rose will wither, but the song remains.",
            "His words cut deeper than any blade.",
            "I'm drowning in paperwork this week.",
            "That workout nearly killed me.",
            "Love is a battlefield, the old song says.",
            "The sun will fall like a golden coin into the sea tonight.",
            "Empires rise in the morning and fall by the evening.",
            "The leaves fall like bright sparks in the October dusk.",
            "Like a breath on a cold window, the city faded into the evening.",
            "The great man fell from favour and no one remembered his name.",
            "Pride comes before a fall, as the proverb says.",
            "Stars fall like sparks over the harbour every August.",
            "The curtain fell on the last night of the play.",
            "Night falls early in the northern winter.",
            "The king's favourite fell from grace in a single evening.",
            "I will sink beneath the waves of sleep and dream of home.",
            "Farewell, my glories, I am going where the old kings went.",
            "That exam absolutely destroyed me.",
            "Her dress was drop-dead gorgeous.",
            "His voice was dead and flat, like a tired actor reading the phone book.",
            "She rose like a lark over the sleeping hills.",
            "He shot down every idea I had at the meeting.",
            "The critics tore the film to shreds.",
            "We were armed with nothing but enthusiasm and a map.",
            "She's a knockout in that role.",
            "The deadline is killing the whole team.",
            "He took a stab at the crossword.",
            "I'm addicted to this new podcast.",
            "That song is like a drug to me.",
            "The new manager is a loose cannon.",
            "They bombed the audition but laughed about it.",
            "I'm so hungry I could eat a horse.",
            "That speech was pure dynamite.",
            "Time flies when you're having fun at {place}.",
            "My heart was bleeding for them.",
        ],
    ),
    "fiction": (
        "-",
        [
            "The outlaw pulled his pistol and the saloon went quiet.",
            "In the thriller, the hitman waits outside the hotel.",
            "The wolf swallowed grandmother whole in the old tale.",
            "The soldiers in the novel march through the burning village.",
            "In the play, the jealous husband smothers his wife.",
            "The detective found poison in the teacup.",
            "The crew fought off the sea monster with harpoons.",
            "The film opens with a bank robbery gone wrong.",
            "In the legend, the hero slays the beast with a single arrow.",
            "Our heroine hides a dagger in her boot before the ball.",
            "The knight drew his sword and faced the dragon at the gates.",
            "In the novel, the detective finds the body in {place}.",
            "In the story, a bear as big as a house chases the travellers.",
            "Chapter three ends with the pirates firing their cannons at dawn.",
            "The witch poisoned the apple and gave it to the princess.",
            "In the film, the hero shoots the alien and saves the city.",
            "The murderer in the play is revealed in the final act.",
            "Once upon a time a giant crushed the village under his boot.",
            "The vampire bit the count and vanished into the fog.",
            "She wrote a thriller about a poisoning at a country house.",
            "The orcs stormed the castle while the archers loosed their arrows.",
            "Sherlock Holmes examined the revolver on the mantelpiece.",
            "In the game you hunt zombies through an abandoned mall.",
            "The ghost story begins with a scream in the attic.",
            "Macbeth murders the king and is haunted by his guilt.",
            "The spy hid a pistol in her handbag in the second chapter.",
            "The dragon burned the fleet and the sailors fled.",
            "The crime series follows a detective hunting a killer in {place}.",
            "The villain laughs as the bomb timer ticks down on screen.",
            "Hamlet's father was poisoned while he slept in the orchard.",
            "The audiobook narrator voices the pirate captain beautifully.",
            "In the fairy tale the huntsman spares Snow White's life.",
            "The gunslinger rode into town at high noon.",
            "The soldier in the poem dreams of home before the battle.",
            "The heroine escapes the burning tower in the last scene.",
            "The monster in the lake drags the fishermen under the water.",
            "Our book club is reading a murder mystery set in Venice.",
            "The assassin in the novel never misses a shot.",
        ],
    ),
    "news": (
        "-",
        [
            "Police say the man was attacked with a bottle outside a pub.",
            "The gang was convicted of supplying cocaine across three counties.",
            "A woman has died after being hit by a car on the ring road.",
            "Armed police were called to a house after reports of a gun.",
            "The government says knife crime has fallen for the first time in years.",
            "The campaign aims to reduce suicide among young men.",
            "A charity warns that cheap drugs are fuelling addiction.",
            "Officers made twelve arrests during the drugs operation.",
            "The victim's family paid tribute to him at the trial.",
            "The report describes racist abuse faced by nurses.",
            "Fighting broke out between the two armies at dawn.",
            "The hostage was released unharmed after a standoff.",
            "Police are investigating a stabbing near {place} last night.",
            "Two men were arrested after a shooting in the city centre.",
            "The court heard that the victim was beaten outside {place}.",
            "Officers seized a rifle and ammunition during the raid.",
            "A man has been charged with murder after a body was found at {place}.",
            "The government announced new measures to tackle knife crime.",
            "Customs officers found cocaine hidden in a shipment of bananas.",
            "The charity says drug deaths rose sharply last year.",
            "Witnesses described hearing gunshots shortly after midnight.",
            "The attack left three people in hospital with serious injuries.",
            "A report on youth violence will be published next month.",
            "The trial of the alleged gunman continues {when}.",
            "Police appealed for witnesses to the assault at {place}.",
            "The minister condemned the racist abuse aimed at the players.",
            "Suicide prevention charities have welcomed the new funding.",
            "Troops withdrew from the town after heavy shelling.",
            "The amnesty collected more than two hundred knives and guns.",
            "A fire at a warehouse was started deliberately, police believe.",
            "The inquiry examined how the prisoner was able to smuggle drugs inside.",
            "Hate crime reports increased by ten percent, figures show.",
            "The ceasefire collapsed after rockets were fired overnight.",
            "The jury was shown the knife recovered from the scene.",
            "Campaigners marched against gun violence in the capital.",
            "Paramedics treated a teenager for stab wounds at {place}.",
            "The coroner recorded a verdict of suicide.",
            "A gang leader was jailed for supplying heroin across the county.",
            "The bombing killed twelve people, officials said.",
            "An investigation found the officer used excessive force.",
            "The report documents racist attacks on asylum seekers.",
            "The far-right group was banned after inciting hatred.",
            "The court heard the defendant shouted abuse about the victim's religion.",
            "The charity campaigns against homophobic bullying in schools.",
            "Police say the knife attack was a hate crime.",
        ],
    ),
    "sport": (
        "-",
        [
            "He smashed it over the bar from six yards.",
            "The defence was ripped apart in the first half.",
            "She knocked her opponent out with a left hook.",
            "The visitors were slaughtered by the home side.",
            "That was a killer ball through the middle.",
            "He shot from distance and the keeper had no chance.",
            "The fighter was beaten badly but went the distance.",
            "They hammered the champions four nil.",
            "They killed it tonight, what a performance!",
            "The striker shot low into the corner and it's two nil.",
            "He absolutely murdered that serve.",
            "The boxer landed a brutal left hook in the third round.",
            "They slaughtered the visitors five nil at home.",
            "What a shot from outside the box!",
            "The defence got destroyed on the counter attack.",
            "She fired the ball into the top corner.",
            "The fighter was knocked out cold in the first round.",
            "That tackle was a killer, he didn't see it coming.",
            "The bowler attacked the stumps all afternoon.",
            "They're dead and buried if they concede again.",
            "He's a sniper from the three-point line.",
            "The champion crushed his opponent in straight sets.",
            "The archer hit the bullseye with her final arrow.",
            "The hunters' team won the shooting competition.",
            "They butchered that chance in front of an open goal.",
            "The midfield was bleeding goals all season.",
            "It's a massacre out there, seven nil with ten minutes left.",
            "The fencer lunged and scored the winning touch.",
            "He took a hit to the ribs but stayed in the fight.",
            "The keeper was beaten at the near post.",
            "The team went for the jugular in the second half.",
            "She smashed the world record in the sprint final.",
            "The rugby forwards battered the line until they scored.",
            "That was a knockout punch in the final seconds.",
        ],
    ),
    "medicine": (
        "-",
        [
            "The patient overdosed on insulin by mistake and recovered.",
            "The nurse checked the wound for signs of infection.",
            "Painkillers should only be taken as prescribed.",
            "The doctor asked whether he had thoughts of suicide.",
            "The surgeon cut through the muscle to reach the bone.",
            "Cannabis is prescribed for some forms of epilepsy.",
            "The hospital treats stab wounds most weekends.",
            "The surgeon made a small incision below the ribs.",
            "Take two tablets every four hours with water.",
            "The nurse gave him a shot of morphine for the pain.",
            "The patient was prescribed opioids after the operation.",
            "Blood tests showed the infection had cleared.",
            "The doctor will cut the stitches out next week.",
            "Ketamine is used as an anaesthetic in veterinary surgery.",
            "Overdose is a risk with this medicine, so keep it away from children.",
            "The trial tests whether cannabis oil reduces seizures.",
            "She works on a helpline supporting people in crisis.",
            "The wound was cleaned and dressed by the paramedic.",
            "Methadone is used to treat opioid dependence.",
            "Talk to your doctor if you have thoughts of harming yourself.",
            "The vaccine needle only stings for a second.",
            "Amputation was the only way to save his life.",
            "The pharmacist explained the side effects of the pills.",
            "The scan showed a fracture in the left leg.",
            "Doctors injected a local anaesthetic before the procedure.",
            "The clinic offers counselling for people who self-harm.",
            "Chemotherapy kills the cancer cells but leaves him tired.",
            "The ward treats patients recovering from addiction.",
            "An epidural was given during the long labour.",
            "The dentist had to pull two teeth.",
            "The bleeding stopped once pressure was applied.",
            "The documentary follows people recovering from heroin addiction.",
            "Needle exchanges reduce the spread of infections among drug users.",
            "The helpline supports anyone having suicidal thoughts.",
            "The counsellor talked about recognising the signs of self-harm.",
        ],
    ),
    "cooking": (
        "-",
        [
            "Cut the chicken into strips and fry it hot.",
            "Crush the garlic and add a pinch of chilli.",
            "Beat the butter and sugar until pale.",
            "Sharpen your knife before you slice the tomatoes.",
            "Shoot the sauce through a sieve for a smooth finish.",
            "Kill the lobster quickly before cooking it.",
            "Pound the spices into a fine powder.",
            "Chop the herbs and scatter them over the fish.",
            "Cut the onions into thin slices.",
            "Chop the garlic and crush it with the flat of the knife.",
            "Beat the eggs with a little sugar.",
            "Kill the heat and let the sauce rest.",
            "Slash the skin of the fish before grilling it.",
            "Whip the cream until it forms stiff peaks.",
            "Stab the potatoes with a fork before baking.",
            "Smash the crackers into crumbs for the base.",
            "Slice the bread with a serrated knife.",
            "Butcher the chicken into eight pieces.",
            "Boil the pasta in plenty of salted water.",
            "Bleed the aubergine with salt for half an hour.",
            "Hack the pumpkin into chunks and roast it.",
            "Pound the meat until it is thin.",
            "A pinch of cocoa powder gives the chilli depth.",
            "Dust the cake with icing sugar, like a fine white powder.",
            "Mince the herbs finely and scatter them on top.",
            "Shoot a little lemon juice over the salad.",
            "Skin the tomatoes after plunging them in boiling water.",
            "Fire up the barbecue half an hour before cooking.",
            "Blitz the nuts in the blender until fine.",
            "Carve the roast at the table with a sharp knife.",
            "Drown the pancakes in maple syrup.",
            "Crack the eggs into the hot pan.",
            "Batter the fish and fry it until golden.",
            "Toss the greens in the dressing just before serving.",
        ],
    ),
    "history": (
        "-",
        [
            "The army burned the town and marched on the capital.",
            "The rebels were hanged in the market square.",
            "Thousands were killed when the ship was torpedoed.",
            "The soldiers carried rifles and bayonets into the trenches.",
            "The opium trade made the merchants rich.",
            "The king was beheaded in front of a crowd.",
            "The regime persecuted religious minorities for decades.",
            "The Battle of Hastings was fought in 1066.",
            "Thousands of soldiers died at the Somme in 1916.",
            "The Romans executed prisoners in the arena.",
            "The Nazis murdered six million Jews in the Holocaust.",
            "Muskets replaced longbows on European battlefields.",
            "The opium wars were fought over the drug trade with China.",
            "Civil rights marchers were attacked by police in Selma.",
            "The assassination of the archduke started the First World War.",
            "Medieval armies besieged castles for months.",
            "Slaves were shipped across the Atlantic in terrible conditions.",
            "The atomic bomb destroyed Hiroshima in August 1945.",
            "The Vikings raided monasteries along the coast.",
            "Prohibition made alcohol illegal in the United States.",
            "The guillotine was used during the French Revolution.",
            "Samurai carried two swords as a sign of rank.",
            "The museum displays weapons from the Napoleonic wars.",
            "Apartheid laws segregated South Africa for decades.",
            "The plague killed a third of Europe's population.",
            "The Spanish Inquisition tortured people accused of heresy.",
            "Gladiators fought with nets, tridents and short swords.",
            "The Berlin Wall fell in November 1989.",
            "Pirates attacked merchant ships in the Caribbean.",
            "The genocide in Rwanda claimed hundreds of thousands of lives.",
            "Knights wore chain mail and carried lances into battle.",
        ],
    ),
    "interview": (
        "-",
        [
            "I'd love to do a {genre} next, something different.",
            "Thanks for having me, it's a pleasure to be on {show}.",
            "I grew up near {place} and I still go back every {season}.",
            "My biggest fear is {fear}.",
            "Honestly, {work} nearly killed me, I was so tired.",
            "I trained as a {job} before I started acting.",
            "My character is a {job} who {arc}.",
            "We filmed most of it in {location} in the middle of {season}.",
            "The hardest part of being a {job} is {hard}.",
            "I spent years as a {job} and it shaped everything I write.",
            "When I was little I wanted to be a {job}.",
            "The new series follows a {job} who {arc}.",
            "My advice to anyone starting out is {advice}.",
            "I still get nervous before {show}.",
        ],
    ),
    "ordinary": (
        "-",
        [
            "Can you pass me the knife, I want to cut the cake.",
            "We're going to kill some time at the shops.",
            "I took two paracetamol for my headache.",
            "The kids are shooting hoops in the garden.",
            "My mum is going to kill me when she sees the mess.",
            "I'm heading to the chemist for my prescription.",
            "Let's grab a coffee after the meeting.",
            "The neighbours are having a party tonight.",
            "The weather will be sunny tomorrow across the region.",
            "The city council approved a new budget for libraries.",
            "Our train is delayed by twenty minutes.",
            "The orchestra will tour Japan in the autumn.",
            "Can you pick up some milk on the way home?",
            "The museum opens at ten on Sundays.",
            "We painted the kitchen a pale green.",
            "The school play is on Thursday evening at {place}.",
            "Interest rates were left unchanged this month.",
            "My daughter started learning the violin.",
            "The new bridge will open to traffic next spring.",
            "I'm meeting my friends at {place} {when}.",
            "The garden centre has a sale on roses.",
            "Thanks for calling, we'll get back to you soon.",
            "The film festival announced its programme.",
            "He fixed the leaking tap in the bathroom.",
            "The bakery on the corner sells great sourdough.",
            "Add a pinch of salt and beat until smooth.",
            "Sift the powdered sugar over the doughnuts.",
            "The recipe calls for a gram of saffron.",
            "Crush the peppercorns in a mortar.",
            "Mix the baking powder into the flour.",
            "Remember to recycle the glass bottles.",
            "The farmers expect a good harvest this year.",
            "Our dog loves chasing the ball at {place}.",
            "The conference will be held online this year.",
            "She's studying chemistry at university.",
            "The exhibition explores the history of the harbour.",
            "The hikers reached the summit at noon.",
        ],
    ),
}

INTERVIEW_POOLS = {
    "genre": ["comedy", "musical", "western", "documentary", "period drama", "thriller", "play"],
    "show": ["the show", "the radio", "a live audience", "opening night", "the podcast"],
    "season": ["summer", "Christmas", "winter", "spring", "autumn"],
    "fear": [
        "forgetting my lines", "flying", "spiders", "letting the team down", "deep water",
        "being found out", "public speaking",
    ],
    "work": ["the first tour", "that album", "the night shifts", "the final season", "the book"],
    "job": [
        "nurse", "paramedic", "soldier", "police officer", "boxer", "chef", "teacher",
        "firefighter", "miner", "detective", "surgeon", "pilot", "farmer", "lawyer",
    ],
    "arc": [
        "comes home from the war", "is haunted by an old case", "loses everything",
        "starts again in a new town", "falls in love late in life", "hunts a killer",
        "fights to keep the farm",
    ],
    "location": ["the desert", "Iceland", "Morocco", "the Highlands", "a studio in London"],
    "hard": [
        "telling families bad news", "the long hours", "the travelling", "saying no",
        "the paperwork", "seeing people in pain",
    ],
    "advice": [
        "to read everything", "to be kind", "to keep going", "to listen more than you talk",
        "to say yes to everything",
    ],
}

# Wordings that turn an ordinary sentence into speech: said, asked, reported.
FRAMES = ["{s}", "{s}", "{s}", "Honestly, {s0}", "Listen, {s0}", "{s} Seriously.", "And {s0}"]


def generate() -> list[tuple[str, str, str]]:
    """(categories, group, sentence) rows, deterministic."""
    rng = random.Random(SEED)
    pools = {
        "person": PERSON, "group": GROUP, "vermin": VERMIN, "when": WHEN, "weapon": WEAPON,
        "drug": DRUG, "amount": AMOUNT, "hurt": HURT, "self": SELF, "feel": FEEL, "place": PLACE,
        "body": BODY, "until": UNTIL, "stash": STASH, "event": EVENT, "use": USE,
        "method": METHOD, "high": HIGH, **INTERVIEW_POOLS,
    }
    rows = []
    for group, (labels, templates) in TEMPLATES.items():
        target = PER_GROUP if labels != "-" else int(PER_GROUP * NEGATIVE_SHARE)
        if group == "armed_threats":
            target = PER_GROUP // 3
        seen: set[str] = set()
        for _ in range(target * 50):
            if len(seen) >= target:
                break
            template = rng.choice(templates)
            sentence = _fill(template, pools, rng)
            frame = rng.choice(FRAMES)
            sentence = frame.format(s=sentence, s0=_lower_first(sentence))
            if sentence not in seen:
                seen.add(sentence)
                rows.append((labels, group, sentence))
    ordinary = [text for labels, _, text in rows if labels == "-"]
    return rows + _fragments(ordinary, rng) + _misheard(ordinary, rng)


def _misheard(ordinary: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    """Ordinary sentences with a few words swapped for other ordinary words: what recognition
    makes of speech it mishears. Nonsense made of harmless words is still harmless, and a head
    must not take an odd line for slang."""
    vocabulary = sorted({w for text in ordinary for w in text.rstrip(".!?").split()[1:]})
    rows, seen = [], set(ordinary)
    for _ in range(MISHEARD * 50):
        if len(rows) >= MISHEARD:
            break
        words = rng.choice(ordinary).split()
        for _ in range(rng.randint(1, max(1, len(words) // 3))):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        sentence = " ".join(words)
        if sentence not in seen:
            seen.add(sentence)
            rows.append(("-", "misheard", sentence))
    return rows


def _fragments(ordinary: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    """Pieces of ordinary sentences, a few words each: what recognition often gives (a line cut
    mid-sentence, a misheard half), so that a short odd line is not taken for slang."""
    rows, seen = [], set(ordinary)
    for _ in range(FRAGMENTS * 50):
        if len(rows) >= FRAGMENTS:
            break
        words = rng.choice(ordinary).rstrip(".!?").split()
        size = rng.randint(2, min(7, len(words)))
        start = rng.randrange(len(words) - size + 1)
        piece = " ".join(words[start : start + size]).rstrip(",;:")
        piece = piece[0].upper() + piece[1:] + "."
        if piece not in seen:
            seen.add(piece)
            rows.append(("-", "fragments", piece))
    return rows


def _fill(template: str, pools: dict[str, list[str]], rng: random.Random) -> str:
    def pick(match: re.Match) -> str:
        name = match.group(1)
        value = rng.choice(pools[name.lower()])
        return value[0].upper() + value[1:] if name[0].isupper() else value

    return re.sub(r"\{(\w+)\}", pick, template)


def _lower_first(sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    keep = first in ("I", "I'm", "I'll", "I've", "I'd") or first[1:2].isupper()
    return sentence if keep else sentence[0].lower() + sentence[1:]


def main() -> None:
    rows = generate()
    header = [
        "# Moderation training corpus, written by mmretrieval/data/moderation_corpus.py (do not",
        "# edit by hand: change the generator and run it). Apache-2.0, like the project.",
        "# categories<TAB>group<TAB>sentence; categories '-' = none of them (a hard negative).",
    ]
    lines = [*header, *("\t".join(row) for row in rows)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = {g: sum(1 for _, group, _ in rows if group == g) for g in TEMPLATES}
    print(f"wrote {OUT}: {len(rows)} sentences", counts)


if __name__ == "__main__":
    main()
