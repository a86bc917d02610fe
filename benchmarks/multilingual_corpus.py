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

# The dev split (``multilingual.py --dev``): eight other news items on other topics, written the
# same way, to choose settings on; the benchmark's ITEMS are never tuned on.
DEV_ITEMS: tuple[Item, ...] = (
    Item(
        "wildfire",
        {
            "en": "A forest fire near Marseille forced three villages to evacuate overnight, and "
            "firefighters are still fighting the flames.",
            "de": "Ein Waldbrand bei Marseille hat in der Nacht drei Dörfer zur Evakuierung "
            "gezwungen, und die Feuerwehr kämpft noch immer gegen die Flammen.",
            "fr": "Un incendie de forêt près de Marseille a forcé trois villages à évacuer "
            "pendant la nuit, et les pompiers luttent encore contre les flammes.",
            "es": "Un incendio forestal cerca de Marsella obligó a evacuar tres pueblos durante "
            "la noche, y los bomberos siguen luchando contra las llamas.",
            "it": "Un incendio boschivo vicino a Marsiglia ha costretto tre paesi a evacuare "
            "durante la notte, e i vigili del fuoco combattono ancora contro le fiamme.",
            "nl": "Een bosbrand bij Marseille dwong vannacht drie dorpen tot evacuatie, en de "
            "brandweer vecht nog steeds tegen de vlammen.",
        },
        {
            "en": "villages evacuated as the forest burns, firefighters battle the blaze",
            "de": "Waldbrände zwingen Dörfer zur Räumung, Feuerwehrleute kämpfen weiter",
            "fr": "villages évacués à cause du feu de forêt, les pompiers combattent l'incendie",
            "es": "pueblos evacuados por el fuego en el bosque, bomberos luchan contra el incendio",
            "it": "paesi evacuati per il rogo nel bosco, i pompieri lottano contro l'incendio",
            "nl": "dorpen geëvacueerd door brandende bossen, brandweerlieden bestrijden het vuur",
        },
    ),
    Item(
        "rents",
        {
            "en": "Rents in the capital rose by eight percent last year, and many young families "
            "can no longer find an affordable flat.",
            "de": "Die Mieten in der Hauptstadt sind im vergangenen Jahr um acht Prozent "
            "gestiegen, und viele junge Familien finden keine bezahlbare Wohnung mehr.",
            "fr": "Les loyers dans la capitale ont augmenté de huit pour cent l'an dernier, et "
            "beaucoup de jeunes familles ne trouvent plus de logement abordable.",
            "es": "Los alquileres en la capital subieron un ocho por ciento el año pasado, y "
            "muchas familias jóvenes ya no encuentran un piso asequible.",
            "it": "Gli affitti nella capitale sono aumentati dell'otto per cento l'anno scorso, "
            "e molte giovani famiglie non trovano più un appartamento accessibile.",
            "nl": "De huren in de hoofdstad zijn vorig jaar met acht procent gestegen, en veel "
            "jonge gezinnen vinden geen betaalbare woning meer.",
        },
        {
            "en": "housing costs climb, young families priced out of apartments",
            "de": "steigende Miete, junge Familie ohne bezahlbare Wohnungen",
            "fr": "hausse du loyer, les familles jeunes sans logements abordables",
            "es": "sube el alquiler, familias jóvenes sin pisos asequibles",
            "it": "aumento dell'affitto, famiglie giovani senza appartamenti accessibili",
            "nl": "stijgende huur, jong gezin zonder betaalbare woningen",
        },
    ),
    Item(
        "zoo",
        {
            "en": "The city zoo celebrates the birth of two baby elephants, the first in its "
            "hundred-year history.",
            "de": "Der Zoo der Stadt feiert die Geburt von zwei Elefantenbabys, die ersten in "
            "seiner hundertjährigen Geschichte.",
            "fr": "Le zoo de la ville célèbre la naissance de deux bébés éléphants, les premiers "
            "de son histoire centenaire.",
            "es": "El zoológico de la ciudad celebra el nacimiento de dos crías de elefante, las "
            "primeras en sus cien años de historia.",
            "it": "Lo zoo della città festeggia la nascita di due cuccioli di elefante, i primi "
            "nella sua storia centenaria.",
            "nl": "De dierentuin van de stad viert de geboorte van twee olifantenbaby's, de "
            "eerste in zijn honderdjarige geschiedenis.",
        },
        {
            "en": "two elephant calves born at the zoo",
            "de": "zwei kleine Elefanten im städtischen Zoo geboren",
            "fr": "deux éléphanteaux nés au zoo de la ville",
            "es": "nacen dos elefantes en el zoo de la ciudad",
            "it": "nati due elefanti nello zoo cittadino",
            "nl": "twee jonge olifanten geboren in de dierentuin",
        },
    ),
    Item(
        "fishing",
        {
            "en": "Fishermen protested in the harbour against the new quotas, which halve the "
            "catch of cod next year.",
            "de": "Fischer haben im Hafen gegen die neuen Fangquoten protestiert, die den "
            "Kabeljaufang im nächsten Jahr halbieren.",
            "fr": "Les pêcheurs ont manifesté dans le port contre les nouveaux quotas, qui "
            "réduisent de moitié la pêche de la morue l'an prochain.",
            "es": "Los pescadores protestaron en el puerto contra las nuevas cuotas, que "
            "reducen a la mitad la captura de bacalao el próximo año.",
            "it": "I pescatori hanno protestato nel porto contro le nuove quote, che dimezzano "
            "la pesca del merluzzo il prossimo anno.",
            "nl": "Vissers protesteerden in de haven tegen de nieuwe quota, die de vangst van "
            "kabeljauw volgend jaar halveren.",
        },
        {
            "en": "fishing crews angry over cod limits",
            "de": "Protest der Fischer gegen halbierte Kabeljauquote",
            "fr": "manifestation de pêcheurs contre le quota de morue",
            "es": "protesta de pescadores por la cuota de bacalao",
            "it": "protesta dei pescatori contro la quota del merluzzo",
            "nl": "visser protesteert tegen halvering van kabeljauwquotum",
        },
    ),
    Item(
        "bridge",
        {
            "en": "The old railway bridge over the river reopens on Saturday after two years of "
            "repairs.",
            "de": "Die alte Eisenbahnbrücke über den Fluss wird am Samstag nach zwei Jahren "
            "Reparatur wieder geöffnet.",
            "fr": "Le vieux pont ferroviaire sur le fleuve rouvre samedi après deux ans de "
            "réparations.",
            "es": "El viejo puente ferroviario sobre el río reabre el sábado tras dos años de "
            "reparaciones.",
            "it": "Il vecchio ponte ferroviario sul fiume riapre sabato dopo due anni di "
            "riparazioni.",
            "nl": "De oude spoorbrug over de rivier gaat zaterdag weer open na twee jaar "
            "herstelwerk.",
        },
        {
            "en": "rail bridge open again after repair work",
            "de": "Brücke für Züge nach langer Reparatur wieder offen",
            "fr": "réouverture du pont de chemin de fer réparé",
            "es": "reapertura del puente del tren tras la reparación",
            "it": "riapertura del ponte della ferrovia riparato",
            "nl": "brug voor treinen na herstel weer geopend",
        },
    ),
    Item(
        "snow",
        {
            "en": "Heavy snowfall cut off several mountain villages, and the army delivered food "
            "by helicopter.",
            "de": "Heftiger Schneefall hat mehrere Bergdörfer von der Außenwelt abgeschnitten, "
            "und die Armee hat Lebensmittel mit dem Hubschrauber geliefert.",
            "fr": "De fortes chutes de neige ont isolé plusieurs villages de montagne, et "
            "l'armée a livré de la nourriture par hélicoptère.",
            "es": "Las fuertes nevadas dejaron aislados varios pueblos de montaña, y el ejército "
            "llevó comida en helicóptero.",
            "it": "Le forti nevicate hanno isolato diversi paesi di montagna, e l'esercito ha "
            "portato cibo in elicottero.",
            "nl": "Zware sneeuwval heeft verschillende bergdorpen afgesloten, en het leger "
            "bracht voedsel per helikopter.",
        },
        {
            "en": "snow isolates mountain villages, soldiers fly in supplies",
            "de": "Schnee schneidet Dorf in den Bergen ab, Soldaten bringen Essen per Helikopter",
            "fr": "village de montagne coupé par la neige, l'armée apporte des vivres",
            "es": "la nieve aísla un pueblo de montaña, soldados llevan alimentos",
            "it": "paese di montagna isolato dalla neve, soldati portano viveri",
            "nl": "bergdorp ingesneeuwd, soldaten brengen eten met helikopters",
        },
    ),
    Item(
        "nurses",
        {
            "en": "Nurses at the university hospital demand more staff and better pay for night "
            "shifts.",
            "de": "Die Pflegekräfte der Universitätsklinik fordern mehr Personal und eine "
            "bessere Bezahlung für Nachtschichten.",
            "fr": "Les infirmières du centre hospitalier universitaire réclament plus de "
            "personnel et un meilleur salaire pour le travail de nuit.",
            "es": "Las enfermeras del hospital universitario exigen más personal y un mejor "
            "sueldo por los turnos de noche.",
            "it": "Gli infermieri del policlinico universitario chiedono più personale e una "
            "paga migliore per i turni di notte.",
            "nl": "De verpleegkundigen van het academisch ziekenhuis eisen meer personeel en een "
            "betere beloning voor nachtdiensten.",
        },
        {
            "en": "hospital nursing staff want higher wages for night work",
            "de": "Krankenpfleger verlangen höhere Löhne für die Nachtschicht",
            "fr": "infirmier réclame une hausse de salaire pour les nuits",
            "es": "enfermeros piden mejor salario por el turno nocturno",
            "it": "infermiere chiedono stipendi migliori per il turno notturno",
            "nl": "verpleegkundige wil hoger loon voor nachtdienst",
        },
    ),
    Item(
        "festival",
        {
            "en": "More than fifty thousand visitors came to the jazz festival, which ended on "
            "Sunday with a concert in the park.",
            "de": "Mehr als fünfzigtausend Besucher kamen zum Jazzfestival, das am Sonntag mit "
            "einem Konzert im Park zu Ende ging.",
            "fr": "Plus de cinquante mille visiteurs sont venus au festival de jazz, qui s'est "
            "terminé dimanche par un concert dans le parc.",
            "es": "Más de cincuenta mil visitantes acudieron al festival de jazz, que terminó el "
            "domingo con un concierto en el parque.",
            "it": "Più di cinquantamila visitatori sono venuti al festival jazz, che si è "
            "concluso domenica con un concerto nel parco.",
            "nl": "Meer dan vijftigduizend bezoekers kwamen naar het jazzfestival, dat zondag "
            "eindigde met een concert in het park.",
        },
        {
            "en": "record crowd at jazz event closes with open-air concert",
            "de": "Jazzfest endet mit Parkkonzert vor Zehntausenden Besuchern",
            "fr": "foule de visiteurs au festival, concert de clôture au parc",
            "es": "miles de personas en el festival de jazz, concierto final en el parque",
            "it": "migliaia di persone al festival, concerto finale al parco",
            "nl": "festival met jazz sluit af met concerten in het park",
        },
    ),
)
