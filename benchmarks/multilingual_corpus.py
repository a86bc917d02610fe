"""The ``multilingual`` suite's corpus: twelve news items, each written in English, German,
French, Spanish, Italian and Dutch (translations written for this suite, one meaning in six
wordings), and for each a short query in every language that says it in other words.

Topics are varied on purpose (floods, elections, sport, health, transport, farming, money,
science, culture, schools, crime, energy) and two items share a word that a careless match
would confuse (a rail strike, a teachers' strike).
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
SPOKEN = ("de", "fr", "es", "it", "nl")  # the languages the clips are spoken in
VOICES = {"de": "de", "fr": "fr-fr", "es": "es", "it": "it", "nl": "nl", "en": "en-us"}


@dataclass(frozen=True)
class Item:
    topic: str
    sentence: dict[str, str]  # language -> what a clip says
    query: dict[str, str]  # language -> a short query in other words


ITEMS: tuple[Item, ...] = (
    Item(
        "floods",
        {
            "en": "Floods closed the motorway between Cologne and Bonn on Monday, and hundreds "
            "of drivers spent the night in their cars.",
            "de": "Hochwasser hat am Montag die Autobahn zwischen Köln und Bonn gesperrt, und "
            "Hunderte Autofahrer verbrachten die Nacht in ihren Autos.",
            "fr": "Lundi, les inondations ont fermé l'autoroute entre Cologne et Bonn, et des "
            "centaines d'automobilistes ont passé la nuit dans leur voiture.",
            "es": "Las inundaciones cerraron el lunes la autopista entre Colonia y Bonn, y "
            "cientos de conductores pasaron la noche en sus coches.",
            "it": "Lunedì le alluvioni hanno chiuso l'autostrada tra Colonia e Bonn, e "
            "centinaia di automobilisti hanno passato la notte in macchina.",
            "nl": "Overstromingen hebben maandag de snelweg tussen Keulen en Bonn afgesloten, "
            "en honderden automobilisten brachten de nacht door in hun auto.",
        },
        {
            "en": "flooding shuts the motorway, drivers stuck overnight",
            "de": "Autobahn wegen Überschwemmung gesperrt, Fahrer übernachten im Auto",
            "fr": "autoroute fermée par les crues, conducteurs bloqués toute la nuit",
            "es": "inundación cierra la autopista, conductores atrapados toda la noche",
            "it": "autostrada chiusa per l'alluvione, automobilisti bloccati di notte",
            "nl": "snelweg dicht door wateroverlast, bestuurders vast in de nacht",
        },
    ),
    Item(
        "elections",
        {
            "en": "The election commission will announce the official results tomorrow "
            "evening, after all the postal votes have been counted.",
            "de": "Die Wahlkommission wird das offizielle Ergebnis morgen Abend bekannt geben, "
            "nachdem alle Briefwahlstimmen ausgezählt sind.",
            "fr": "La commission électorale annoncera les résultats officiels demain soir, "
            "après le dépouillement de tous les votes par correspondance.",
            "es": "La comisión electoral anunciará los resultados oficiales mañana por la "
            "noche, cuando se hayan contado todos los votos por correo.",
            "it": "La commissione elettorale annuncerà i risultati ufficiali domani sera, dopo "
            "lo spoglio di tutti i voti per corrispondenza.",
            "nl": "De kiescommissie maakt morgenavond de officiële uitslag bekend, nadat alle "
            "stemmen per brief zijn geteld.",
        },
        {
            "en": "official election results after counting postal ballots",
            "de": "amtliches Wahlergebnis nach Auszählung der Briefwahl",
            "fr": "résultats officiels du scrutin après le vote par correspondance",
            "es": "resultados oficiales de las elecciones tras el voto por correo",
            "it": "risultati ufficiali delle elezioni dopo il voto postale",
            "nl": "officiële verkiezingsuitslag na het tellen van de briefstemmen",
        },
    ),
    Item(
        "sport",
        {
            "en": "The young goalkeeper saved a penalty in the last minute, and his team "
            "reached the cup final for the first time.",
            "de": "Der junge Torwart hielt in der letzten Minute einen Elfmeter, und seine "
            "Mannschaft erreichte zum ersten Mal das Pokalfinale.",
            "fr": "Le jeune gardien a arrêté un penalty à la dernière minute, et son équipe "
            "s'est qualifiée pour la première fois pour la finale de la coupe.",
            "es": "El joven portero paró un penalti en el último minuto y su equipo llegó por "
            "primera vez a la final de copa.",
            "it": "Il giovane portiere ha parato un rigore all'ultimo minuto e la sua squadra "
            "è arrivata per la prima volta in finale di coppa.",
            "nl": "De jonge keeper stopte in de laatste minuut een strafschop, en zijn ploeg "
            "bereikte voor het eerst de bekerfinale.",
        },
        {
            "en": "keeper stops a late penalty, team into the cup final",
            "de": "Torhüter pariert späten Strafstoß, Team im Pokalfinale",
            "fr": "le gardien stoppe un penalty, l'équipe en finale de coupe",
            "es": "el guardameta detiene un penalti y su equipo jugará la final",
            "it": "il portiere para il rigore, squadra in finale",
            "nl": "keeper houdt penalty tegen, ploeg naar de finale",
        },
    ),
    Item(
        "health",
        {
            "en": "Doctors warn that the flu season has started unusually early this year and "
            "urge older people to get vaccinated now.",
            "de": "Ärzte warnen, dass die Grippesaison in diesem Jahr ungewöhnlich früh begonnen "
            "hat, und raten älteren Menschen, sich jetzt impfen zu lassen.",
            "fr": "Les médecins avertissent que la saison de la grippe a commencé "
            "exceptionnellement tôt cette année et invitent les personnes âgées à se faire "
            "vacciner dès maintenant.",
            "es": "Los médicos advierten de que la temporada de gripe ha empezado "
            "inusualmente pronto este año y piden a las personas mayores que se vacunen ya.",
            "it": "I medici avvertono che quest'anno la stagione influenzale è iniziata "
            "insolitamente presto e invitano gli anziani a vaccinarsi subito.",
            "nl": "Artsen waarschuwen dat het griepseizoen dit jaar ongewoon vroeg is begonnen "
            "en roepen ouderen op zich nu te laten vaccineren.",
        },
        {
            "en": "early flu season, elderly told to get the vaccine",
            "de": "frühe Grippewelle, Senioren sollen sich impfen lassen",
            "fr": "grippe précoce, les seniors appelés à se faire vacciner",
            "es": "gripe temprana, piden a los mayores vacunarse",
            "it": "influenza in anticipo, anziani invitati al vaccino",
            "nl": "vroege griepgolf, ouderen moeten zich laten inenten",
        },
    ),
    Item(
        "transport",
        {
            "en": "The night train to the capital was cancelled because of a strike, and the "
            "railway company promised replacement buses.",
            "de": "Der Nachtzug in die Hauptstadt fiel wegen eines Streiks aus, und die "
            "Bahngesellschaft versprach Ersatzbusse.",
            "fr": "Le train de nuit vers la capitale a été annulé à cause d'une grève, et la "
            "compagnie ferroviaire a promis des bus de remplacement.",
            "es": "El tren nocturno a la capital fue cancelado por una huelga, y la compañía "
            "ferroviaria prometió autobuses de sustitución.",
            "it": "Il treno notturno per la capitale è stato cancellato a causa di uno "
            "sciopero, e la compagnia ferroviaria ha promesso autobus sostitutivi.",
            "nl": "De nachttrein naar de hoofdstad werd geschrapt vanwege een staking, en de "
            "spoorwegmaatschappij beloofde vervangende bussen.",
        },
        {
            "en": "rail strike cancels the night train, buses replace it",
            "de": "Bahnstreik: Nachtzug gestrichen, Busse als Ersatz",
            "fr": "grève des cheminots, train de nuit supprimé et remplacé par des bus",
            "es": "huelga de trenes, suprimido el tren nocturno, autobuses en su lugar",
            "it": "sciopero dei treni, soppresso il notturno, arrivano i pullman",
            "nl": "treinstaking, nachttrein vervalt, bussen rijden in plaats daarvan",
        },
    ),
    Item(
        "farming",
        {
            "en": "Farmers in the south are worried about the long drought, because the wheat "
            "harvest could be the smallest in twenty years.",
            "de": "Die Bauern im Süden sind wegen der langen Dürre besorgt, denn die "
            "Weizenernte könnte die kleinste seit zwanzig Jahren werden.",
            "fr": "Les agriculteurs du sud s'inquiètent de la longue sécheresse, car la récolte "
            "de blé pourrait être la plus faible depuis vingt ans.",
            "es": "Los agricultores del sur están preocupados por la larga sequía, porque la "
            "cosecha de trigo podría ser la más pequeña en veinte años.",
            "it": "Gli agricoltori del sud sono preoccupati per la lunga siccità, perché il "
            "raccolto di grano potrebbe essere il più scarso da vent'anni.",
            "nl": "Boeren in het zuiden maken zich zorgen over de lange droogte, omdat de "
            "tarweoogst de kleinste in twintig jaar kan worden.",
        },
        {
            "en": "dry summer threatens the smallest wheat harvest in decades",
            "de": "Trockenheit bedroht die Weizenernte",
            "fr": "la sécheresse menace la moisson de blé",
            "es": "la sequía amenaza la cosecha de trigo",
            "it": "la siccità minaccia il raccolto di frumento",
            "nl": "droogte bedreigt de graanoogst",
        },
    ),
    Item(
        "economy",
        {
            "en": "The central bank raised interest rates again today to slow down inflation, "
            "which reached six percent last month.",
            "de": "Die Zentralbank hat heute erneut die Zinsen erhöht, um die Inflation zu "
            "bremsen, die im letzten Monat sechs Prozent erreichte.",
            "fr": "La banque centrale a de nouveau relevé ses taux d'intérêt aujourd'hui pour "
            "freiner l'inflation, qui a atteint six pour cent le mois dernier.",
            "es": "El banco central volvió a subir hoy los tipos de interés para frenar la "
            "inflación, que alcanzó el seis por ciento el mes pasado.",
            "it": "La banca centrale ha alzato di nuovo i tassi di interesse oggi per frenare "
            "l'inflazione, che il mese scorso ha raggiunto il sei per cento.",
            "nl": "De centrale bank heeft vandaag opnieuw de rente verhoogd om de inflatie af "
            "te remmen, die vorige maand zes procent bereikte.",
        },
        {
            "en": "another rate rise to fight inflation",
            "de": "Leitzins steigt wieder gegen die Teuerung",
            "fr": "nouvelle hausse des taux contre l'inflation",
            "es": "nueva subida de tipos contra la inflación",
            "it": "nuovo aumento dei tassi contro l'inflazione",
            "nl": "weer een renteverhoging tegen de inflatie",
        },
    ),
    Item(
        "science",
        {
            "en": "Astronomers have discovered a new planet orbiting a nearby star, and it may "
            "have water on its surface.",
            "de": "Astronomen haben einen neuen Planeten entdeckt, der einen nahen Stern "
            "umkreist, und auf seiner Oberfläche könnte es Wasser geben.",
            "fr": "Des astronomes ont découvert une nouvelle planète en orbite autour d'une "
            "étoile proche, et il pourrait y avoir de l'eau à sa surface.",
            "es": "Los astrónomos han descubierto un nuevo planeta que orbita una estrella "
            "cercana, y podría tener agua en su superficie.",
            "it": "Gli astronomi hanno scoperto un nuovo pianeta in orbita attorno a una stella "
            "vicina, e potrebbe avere acqua sulla sua superficie.",
            "nl": "Sterrenkundigen hebben een nieuwe planeet ontdekt die om een nabije ster "
            "draait, en er kan water op het oppervlak zijn.",
        },
        {
            "en": "new planet found near a star, possibly with water",
            "de": "Forscher finden Planeten mit möglichem Wasser",
            "fr": "une planète découverte qui pourrait abriter de l'eau",
            "es": "descubren un planeta que podría tener agua",
            "it": "scoperto un pianeta che potrebbe avere acqua",
            "nl": "planeet ontdekt waar mogelijk water is",
        },
    ),
    Item(
        "culture",
        {
            "en": "The old city museum reopens on Saturday after five years of renovation, "
            "with free entry for the first week.",
            "de": "Das alte Stadtmuseum öffnet am Samstag nach fünf Jahren Renovierung wieder, "
            "in der ersten Woche ist der Eintritt frei.",
            "fr": "Le vieux musée de la ville rouvre samedi après cinq ans de rénovation, avec "
            "une entrée gratuite la première semaine.",
            "es": "El antiguo museo de la ciudad reabre el sábado tras cinco años de reformas, "
            "con entrada gratuita la primera semana.",
            "it": "Il vecchio museo civico riapre sabato dopo cinque anni di restauri, con "
            "ingresso gratuito per la prima settimana.",
            "nl": "Het oude stadsmuseum gaat zaterdag na vijf jaar renovatie weer open, met "
            "gratis toegang in de eerste week.",
        },
        {
            "en": "museum reopens after renovation, free admission",
            "de": "Museum nach Umbau wieder offen, Eintritt kostenlos",
            "fr": "le musée rouvre ses portes, entrée libre",
            "es": "reabre el museo, entrada libre",
            "it": "il museo riapre, ingresso libero",
            "nl": "museum weer open na verbouwing, toegang gratis",
        },
    ),
    Item(
        "schools",
        {
            "en": "Teachers across the country went on strike for higher wages, and many "
            "schools remained closed all day.",
            "de": "Lehrer im ganzen Land haben für höhere Löhne gestreikt, und viele Schulen "
            "blieben den ganzen Tag geschlossen.",
            "fr": "Les enseignants de tout le pays ont fait grève pour de meilleurs salaires, "
            "et de nombreuses écoles sont restées fermées toute la journée.",
            "es": "Los profesores de todo el país hicieron huelga para pedir salarios más "
            "altos, y muchas escuelas permanecieron cerradas todo el día.",
            "it": "Gli insegnanti di tutto il paese hanno scioperato per salari più alti, e "
            "molte scuole sono rimaste chiuse tutto il giorno.",
            "nl": "Leraren in het hele land staakten voor hogere lonen, en veel scholen bleven "
            "de hele dag dicht.",
        },
        {
            "en": "teachers strike over pay, schools shut",
            "de": "Lehrerstreik um mehr Gehalt, Schulen zu",
            "fr": "grève des professeurs pour les salaires, écoles fermées",
            "es": "huelga de maestros por el sueldo, colegios cerrados",
            "it": "sciopero dei docenti per lo stipendio, scuole chiuse",
            "nl": "lerarenstaking om het salaris, scholen dicht",
        },
    ),
    Item(
        "crime",
        {
            "en": "Police arrested two men after a bank robbery in the city centre, and the "
            "stolen money was found in a car.",
            "de": "Die Polizei hat nach einem Banküberfall in der Innenstadt zwei Männer "
            "festgenommen, und das gestohlene Geld wurde in einem Auto gefunden.",
            "fr": "La police a arrêté deux hommes après le braquage d'une banque dans le "
            "centre-ville, et l'argent volé a été retrouvé dans une voiture.",
            "es": "La policía detuvo a dos hombres tras el atraco a un banco en el centro de "
            "la ciudad, y el dinero robado apareció en un coche.",
            "it": "La polizia ha arrestato due uomini dopo una rapina in banca nel centro "
            "città, e il denaro rubato è stato trovato in un'auto.",
            "nl": "De politie heeft twee mannen opgepakt na een bankoverval in het centrum, en "
            "het gestolen geld werd in een auto gevonden.",
        },
        {
            "en": "two suspects held after a bank robbery, cash recovered",
            "de": "zwei Festnahmen nach Bankraub, Beute sichergestellt",
            "fr": "deux interpellations après un hold-up, le butin retrouvé",
            "es": "dos detenidos por el robo del banco, recuperado el botín",
            "it": "due arresti per la rapina, ritrovato il bottino",
            "nl": "twee arrestaties na overval op bank, buit teruggevonden",
        },
    ),
    Item(
        "energy",
        {
            "en": "A new wind farm off the coast will supply electricity to half a million "
            "homes from next spring.",
            "de": "Ein neuer Windpark vor der Küste wird ab nächstem Frühjahr eine halbe "
            "Million Haushalte mit Strom versorgen.",
            "fr": "Un nouveau parc éolien au large des côtes fournira de l'électricité à un "
            "demi-million de foyers à partir du printemps prochain.",
            "es": "Un nuevo parque eólico frente a la costa suministrará electricidad a medio "
            "millón de hogares a partir de la próxima primavera.",
            "it": "Un nuovo parco eolico al largo della costa fornirà elettricità a mezzo "
            "milione di case a partire dalla prossima primavera.",
            "nl": "Een nieuw windpark voor de kust gaat vanaf volgend voorjaar een half miljoen "
            "huishoudens van stroom voorzien.",
        },
        {
            "en": "offshore wind turbines to power homes",
            "de": "Offshore-Windkraft liefert Strom für Haushalte",
            "fr": "éoliennes en mer pour alimenter les foyers",
            "es": "energía eólica marina para los hogares",
            "it": "eolico in mare per alimentare le case",
            "nl": "windmolens op zee leveren stroom aan huizen",
        },
    ),
)
