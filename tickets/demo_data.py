"""Static tables behind ``seed_demo``: cities, chains, partners, people and typical problems.

Everything here is fictional except the geography: cities are real, with the coordinates of
their centres, grouped by ISO 3166-2 region code (``clients.regions_data.REGIONS``).
"""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str
    lat: float
    lon: float
    radius_km: float = 4.0


# Region code -> cities used for stores. The first city of a region is its main one.
CITIES: dict[str, tuple[City, ...]] = {
    # Kaliningrad (UTC+2)
    "RU-KGD": (
        City("Калининград", 54.7104, 20.4522, 7),
        City("Советск", 55.0810, 21.8865),
        City("Черняховск", 54.6333, 21.8167),
        City("Балтийск", 54.6500, 19.9167, 2),
    ),
    # Moscow time (UTC+3)
    "RU-MOW": (City("Москва", 55.7558, 37.6173, 16),),
    "RU-MOS": (
        City("Подольск", 55.4311, 37.5447),
        City("Химки", 55.8970, 37.4297),
        City("Балашиха", 55.7963, 37.9382),
        City("Мытищи", 55.9116, 37.7308),
        City("Королёв", 55.9142, 37.8256),
        City("Люберцы", 55.6783, 37.8930),
        City("Одинцово", 55.6789, 37.2636),
        City("Красногорск", 55.8204, 37.3302),
        City("Сергиев Посад", 56.3000, 38.1333),
        City("Коломна", 55.1033, 38.7527),
    ),
    "RU-SPE": (City("Санкт-Петербург", 59.9343, 30.3351, 13),),
    "RU-LEN": (
        City("Гатчина", 59.5650, 30.1283),
        City("Всеволожск", 60.0200, 30.6372),
        City("Выборг", 60.7096, 28.7490),
    ),
    "RU-TVE": (City("Тверь", 56.8587, 35.9176, 6),),
    "RU-YAR": (City("Ярославль", 57.6261, 39.8845, 6), City("Рыбинск", 58.0485, 38.8584)),
    "RU-VLA": (City("Владимир", 56.1291, 40.4066, 5),),
    "RU-IVA": (City("Иваново", 57.0000, 40.9737, 5),),
    "RU-KOS": (City("Кострома", 57.7679, 40.9269, 5),),
    "RU-TUL": (City("Тула", 54.1931, 37.6173, 6), City("Новомосковск", 54.0105, 38.2846)),
    "RU-RYA": (City("Рязань", 54.6269, 39.6916, 6),),
    "RU-KLU": (City("Калуга", 54.5293, 36.2754, 5), City("Обнинск", 55.0968, 36.6101)),
    "RU-SMO": (City("Смоленск", 54.7818, 32.0401, 5),),
    "RU-BRY": (City("Брянск", 53.2521, 34.3717, 6),),
    "RU-ORL": (City("Орёл", 52.9703, 36.0635, 5),),
    "RU-KRS": (City("Курск", 51.7304, 36.1926, 6),),
    "RU-BEL": (City("Белгород", 50.5997, 36.5983, 5), City("Старый Оскол", 51.2967, 37.8417)),
    "RU-LIP": (City("Липецк", 52.6031, 39.5708, 6),),
    "RU-VOR": (City("Воронеж", 51.6720, 39.1843, 8),),
    "RU-TAM": (City("Тамбов", 52.7212, 41.4523, 5),),
    "RU-NIZ": (
        City("Нижний Новгород", 56.2965, 43.9361, 9),
        City("Дзержинск", 56.2389, 43.4631),
        City("Арзамас", 55.3945, 43.8390),
    ),
    "RU-TA": (
        City("Казань", 55.7887, 49.1221, 9),
        City("Набережные Челны", 55.7436, 52.3958, 6),
        City("Альметьевск", 54.9014, 52.2973),
    ),
    "RU-CU": (City("Чебоксары", 56.1439, 47.2489, 5),),
    "RU-ME": (City("Йошкар-Ола", 56.6388, 47.8908, 4),),
    "RU-MO": (City("Саранск", 54.1838, 45.1749, 4),),
    "RU-PNZ": (City("Пенза", 53.1959, 45.0183, 6),),
    "RU-KIR": (City("Киров", 58.6036, 49.6680, 6),),
    "RU-KR": (City("Петрозаводск", 61.7849, 34.3469, 5),),
    "RU-ARK": (City("Архангельск", 64.5399, 40.5152, 6), City("Северодвинск", 64.5582, 39.8296)),
    "RU-MUR": (City("Мурманск", 68.9585, 33.0827, 5),),
    "RU-VLG": (City("Вологда", 59.2181, 39.8886, 5), City("Череповец", 59.1333, 37.9000, 5)),
    "RU-KO": (City("Сыктывкар", 61.6688, 50.8364, 5),),
    "RU-NGR": (City("Великий Новгород", 58.5213, 31.2710, 5),),
    "RU-PSK": (City("Псков", 57.8194, 28.3318, 5),),
    "RU-KDA": (
        City("Краснодар", 45.0355, 38.9753, 9),
        City("Сочи", 43.5855, 39.7231, 6),
        City("Новороссийск", 44.7239, 37.7688),
        City("Армавир", 44.9892, 41.1234),
    ),
    "RU-ROS": (
        City("Ростов-на-Дону", 47.2357, 39.7015, 9),
        City("Таганрог", 47.2362, 38.8969),
        City("Шахты", 47.7085, 40.2160),
    ),
    "RU-STA": (City("Ставрополь", 45.0428, 41.9734, 5), City("Пятигорск", 44.0486, 43.0594)),
    "RU-VGG": (City("Волгоград", 48.7080, 44.5133, 10), City("Волжский", 48.7858, 44.7797)),
    "RU-AD": (City("Майкоп", 44.6098, 40.1006, 4),),
    "RU-KB": (City("Нальчик", 43.4853, 43.6071, 4),),
    "RU-SE": (City("Владикавказ", 43.0241, 44.6814, 4),),
    "RU-DA": (City("Махачкала", 42.9849, 47.5047, 6),),
    # Samara time (UTC+4)
    "RU-SAM": (
        City("Самара", 53.1959, 50.1002, 9),
        City("Тольятти", 53.5078, 49.4204, 7),
        City("Сызрань", 53.1585, 48.4681),
    ),
    "RU-SAR": (City("Саратов", 51.5336, 46.0343, 7), City("Энгельс", 51.4855, 46.1267)),
    "RU-ULY": (City("Ульяновск", 54.3142, 48.4031, 7),),
    "RU-UD": (City("Ижевск", 56.8526, 53.2045, 6),),
    "RU-AST": (City("Астрахань", 46.3497, 48.0408, 6),),
    # Yekaterinburg time (UTC+5)
    "RU-BA": (City("Уфа", 54.7388, 55.9721, 9), City("Стерлитамак", 53.6246, 55.9501)),
    "RU-PER": (City("Пермь", 58.0105, 56.2502, 9), City("Березники", 59.4091, 56.8204)),
    "RU-SVE": (
        City("Екатеринбург", 56.8389, 60.6057, 10),
        City("Нижний Тагил", 57.9101, 59.9813, 5),
        City("Каменск-Уральский", 56.4149, 61.9189),
    ),
    "RU-CHE": (
        City("Челябинск", 55.1644, 61.4368, 10),
        City("Магнитогорск", 53.4072, 58.9791, 6),
        City("Златоуст", 55.1711, 59.6508),
    ),
    "RU-TYU": (City("Тюмень", 57.1530, 65.5343, 7), City("Тобольск", 58.1981, 68.2644)),
    "RU-KHM": (
        City("Сургут", 61.2540, 73.3962, 5),
        City("Нижневартовск", 60.9344, 76.5531, 5),
        City("Ханты-Мансийск", 61.0042, 69.0019, 3),
    ),
    "RU-YAN": (City("Новый Уренгой", 66.0833, 76.6333, 3), City("Ноябрьск", 63.2018, 75.4511, 3)),
    "RU-ORE": (City("Оренбург", 51.7682, 55.0970, 7), City("Орск", 51.2293, 58.4752)),
    "RU-KGN": (City("Курган", 55.4410, 65.3411, 5),),
    # Omsk time (UTC+6)
    "RU-OMS": (City("Омск", 54.9885, 73.3242, 10),),
    # Krasnoyarsk / Novosibirsk time (UTC+7)
    "RU-NVS": (City("Новосибирск", 55.0084, 82.9357, 11), City("Бердск", 54.7582, 83.1072)),
    "RU-TOM": (City("Томск", 56.4847, 84.9482, 6),),
    "RU-KEM": (City("Кемерово", 55.3547, 86.0873, 6), City("Новокузнецк", 53.7557, 87.1099, 6)),
    "RU-ALT": (City("Барнаул", 53.3474, 83.7785, 7), City("Бийск", 52.5394, 85.2134)),
    "RU-KYA": (
        City("Красноярск", 56.0153, 92.8932, 10),
        City("Ачинск", 56.2694, 90.4993),
        City("Норильск", 69.3558, 88.1893, 3),
    ),
    "RU-KK": (City("Абакан", 53.7156, 91.4292, 4),),
    # Irkutsk time (UTC+8)
    "RU-IRK": (
        City("Иркутск", 52.2870, 104.3050, 7),
        City("Ангарск", 52.5448, 103.8885),
        City("Братск", 56.1514, 101.6342),
    ),
    "RU-BU": (City("Улан-Удэ", 51.8335, 107.5841, 6),),
    # Yakutsk time (UTC+9)
    "RU-ZAB": (City("Чита", 52.0515, 113.4712, 6),),
    "RU-SA": (City("Якутск", 62.0355, 129.6755, 5), City("Нерюнгри", 56.6583, 124.7250, 3)),
    "RU-AMU": (City("Благовещенск", 50.2907, 127.5272, 5),),
    # Vladivostok time (UTC+10)
    "RU-PRI": (
        City("Владивосток", 43.1155, 131.8855, 7),
        City("Уссурийск", 43.7971, 131.9518),
        City("Находка", 42.8240, 132.8927),
    ),
    "RU-KHA": (
        City("Хабаровск", 48.4802, 135.0719, 8),
        City("Комсомольск-на-Амуре", 50.5497, 137.0079, 5),
    ),
    "RU-YEV": (City("Биробиджан", 48.7946, 132.9218, 3),),
    # Magadan / Sakhalin time (UTC+11)
    "RU-SAK": (City("Южно-Сахалинск", 46.9591, 142.7380, 5), City("Корсаков", 46.6324, 142.7785)),
    "RU-MAG": (City("Магадан", 59.5682, 150.8085, 3),),
    # Kamchatka time (UTC+12)
    "RU-KAM": (
        City("Петропавловск-Камчатский", 53.0370, 158.6559, 6),
        City("Елизово", 53.1873, 158.3810, 2),
    ),
    # CIS capitals
    "BY-HM": (City("Минск", 53.9006, 27.5590, 9),),
    "KZ-75": (City("Алматы", 43.2220, 76.8512, 9),),
}

STREETS: tuple[str, ...] = (
    "ул. Ленина",
    "пр. Мира",
    "ул. Советская",
    "ул. Гагарина",
    "ул. Пушкина",
    "ул. Молодёжная",
    "ул. Центральная",
    "ул. Садовая",
    "пр. Победы",
    "ул. Кирова",
    "ул. Московская",
    "ул. Октябрьская",
    "ул. Строителей",
    "ул. Комсомольская",
    "ул. Первомайская",
    "ул. Горького",
    "ул. Чехова",
    "ул. Лесная",
    "ул. Набережная",
    "ул. Матросова",
    "пр. Ленинградский",
    "ул. Куйбышева",
    "ул. Свердлова",
    "ул. Дзержинского",
)

# Streets that exist in the CIS capitals, so the addresses there look right.
LOCAL_STREETS: dict[str, tuple[str, ...]] = {
    "BY-HM": (
        "пр. Независимости",
        "пр. Победителей",
        "ул. Немига",
        "пр. Дзержинского",
        "ул. Притыцкого",
    ),
    "KZ-75": ("пр. Абая", "пр. Достык", "ул. Толе би", "пр. Аль-Фараби", "ул. Жибек Жолы"),
}

PHONE_PREFIXES: dict[str, str] = {"BY": "+375 29", "KZ": "+7 701", "RU": "+7 9"}


class ChainSpec(NamedTuple):
    """A demo client: its brand, contract, store network and what a store holds."""

    code: str
    name: str
    legal_name: str
    contract_number: str
    stores: dict[str, int]  # region code -> number of stores
    registers: tuple[int, int]  # cash registers per store (min, max)
    cctv: tuple[int, int]
    monthly_tickets_per_store: float
    has_scales: bool = False


GROCERY = ChainSpec(
    code="GMT",
    name="Гастроном-Маркет",
    legal_name="АО «Гастроном-Маркет»",
    contract_number="СД-2025/014",
    stores={
        "RU-KGD": 8,
        "RU-MOW": 30,
        "RU-MOS": 24,
        "RU-SPE": 18,
        "RU-LEN": 5,
        "RU-TVE": 4,
        "RU-YAR": 5,
        "RU-VLA": 4,
        "RU-IVA": 3,
        "RU-KOS": 2,
        "RU-TUL": 5,
        "RU-RYA": 4,
        "RU-KLU": 4,
        "RU-SMO": 3,
        "RU-BRY": 3,
        "RU-ORL": 2,
        "RU-KRS": 3,
        "RU-BEL": 4,
        "RU-LIP": 3,
        "RU-VOR": 7,
        "RU-TAM": 2,
        "RU-NIZ": 10,
        "RU-TA": 10,
        "RU-CU": 3,
        "RU-ME": 2,
        "RU-MO": 2,
        "RU-PNZ": 3,
        "RU-KIR": 3,
        "RU-KR": 2,
        "RU-ARK": 3,
        "RU-MUR": 2,
        "RU-VLG": 3,
        "RU-KO": 2,
        "RU-NGR": 2,
        "RU-PSK": 2,
        "RU-KDA": 14,
        "RU-ROS": 10,
        "RU-STA": 5,
        "RU-VGG": 6,
        "RU-SAM": 9,
        "RU-SAR": 5,
        "RU-ULY": 3,
        "RU-UD": 4,
        "RU-AST": 3,
        "RU-BA": 8,
        "RU-PER": 6,
        "RU-SVE": 10,
        "RU-CHE": 8,
        "RU-TYU": 4,
        "RU-KHM": 4,
        "RU-YAN": 2,
        "RU-ORE": 3,
        "RU-KGN": 2,
        "RU-OMS": 6,
        "RU-NVS": 8,
        "RU-TOM": 3,
        "RU-KEM": 5,
        "RU-ALT": 4,
        "RU-KYA": 6,
        "RU-KK": 2,
        "RU-IRK": 6,
        "RU-BU": 2,
        "RU-ZAB": 2,
        "RU-SA": 3,
        "RU-AMU": 2,
        "RU-PRI": 6,
        "RU-KHA": 4,
        "RU-YEV": 1,
        "RU-SAK": 3,
        "RU-MAG": 2,
        "RU-KAM": 3,
    },
    registers=(2, 8),
    cctv=(1, 2),
    monthly_tickets_per_store=0.75,
    has_scales=True,
)

FASHION = ChainSpec(
    code="MKV",
    name="Модный Квартал",
    legal_name="ООО «Модный Квартал»",
    contract_number="СД-2025/021",
    stores={
        "RU-MOW": 12,
        "RU-SPE": 7,
        "RU-MOS": 4,
        "RU-KDA": 3,
        "RU-ROS": 2,
        "RU-TA": 3,
        "RU-NIZ": 2,
        "RU-SAM": 2,
        "RU-SVE": 3,
        "RU-CHE": 2,
        "RU-NVS": 3,
        "RU-BA": 2,
        "RU-PER": 1,
        "RU-VOR": 2,
        "RU-VGG": 1,
        "RU-KYA": 2,
        "RU-OMS": 1,
        "RU-IRK": 1,
        "RU-PRI": 1,
        "RU-KHA": 1,
        "RU-TYU": 1,
        "BY-HM": 2,
        "KZ-75": 2,
    },
    registers=(2, 4),
    cctv=(1, 2),
    monthly_tickets_per_store=0.35,
)

PHARMACY = ChainSpec(
    code="APZ",
    name="Аптека Здоровье",
    legal_name="ООО «Аптека Здоровье»",
    contract_number="СД-2025/027",
    stores={
        "RU-MOW": 15,
        "RU-MOS": 12,
        "RU-SPE": 8,
        "RU-LEN": 3,
        "RU-TVE": 3,
        "RU-YAR": 3,
        "RU-VLA": 3,
        "RU-TUL": 3,
        "RU-RYA": 3,
        "RU-KLU": 2,
        "RU-NIZ": 6,
        "RU-TA": 5,
        "RU-SAM": 5,
        "RU-SAR": 3,
        "RU-PNZ": 2,
        "RU-UD": 2,
        "RU-CU": 2,
        "RU-BA": 4,
        "RU-PER": 3,
        "RU-SVE": 5,
        "RU-CHE": 4,
        "RU-TYU": 2,
        "RU-KDA": 2,
    },
    registers=(1, 3),
    cctv=(1, 1),
    monthly_tickets_per_store=0.45,
)

CHAINS: tuple[ChainSpec, ...] = (GROCERY, FASHION, PHARMACY)


class EquipmentSpec(NamedTuple):
    kind: str  # clients.choices.EquipmentKind value
    models: tuple[str, ...]
    serial_prefix: str


EQUIPMENT: dict[str, EquipmentSpec] = {
    "register": EquipmentSpec(
        "cash_register",
        ("АТОЛ Sigma 10", "Эвотор 7.3", "Штрих-М POS-Mini", "Posiflex XT-3815"),
        "CR",
    ),
    "printer": EquipmentSpec(
        "fiscal_printer", ("АТОЛ 30Ф", "АТОЛ 27Ф", "Штрих-М-01Ф", "Пирит 2Ф"), "FR"
    ),
    "cctv": EquipmentSpec(
        "cctv", ("Hikvision DS-7616NI-K2", "Dahua NVR4216-4KS2", "Trassir MiniNVR AF 16"), "NVR"
    ),
    "self_checkout": EquipmentSpec(
        "self_checkout", ("NCR SelfServ 80", "Diebold Nixdorf K-Two", "Штрих-М КСО Лайт"), "SCO"
    ),
    "router": EquipmentSpec(
        "network", ("MikroTik hAP ac2", "Eltex ESR-20", "Cisco ISR 1111"), "RT"
    ),
    "switch": EquipmentSpec(
        "network", ("Eltex MES2324", "Cisco Catalyst 2960-L", "TP-Link TL-SG3428"), "SW"
    ),
    "terminal": EquipmentSpec(
        "pos_terminal", ("Ingenico Desk/5000", "Verifone VX520", "PAX SP30"), "PT"
    ),
    "scales": EquipmentSpec("scales", ("Масса-К ВПМ-15.2-Т", "CAS CL5000J", "Штрих-Принт М"), "SC"),
}


class CompetencySpec(NamedTuple):
    code: str
    name: str
    equipment_kind: str
    level: str  # "field" | "specialist" | "strategic" (demo grouping only)
    cert_prefix: str


COMPETENCIES: tuple[CompetencySpec, ...] = (
    CompetencySpec("cash-registers", "Ремонт и настройка касс", "cash_register", "field", "КАС"),
    CompetencySpec("fiscal-printers", "Фискальные регистраторы", "fiscal_printer", "field", "АСЦ"),
    CompetencySpec("cctv", "Системы видеонаблюдения", "cctv", "field", "ВН"),
    CompetencySpec("self-checkout", "Кассы самообслуживания", "self_checkout", "field", "КСО"),
    CompetencySpec("network-field", "Сетевое оборудование магазина", "network", "field", "СЕТЬ"),
    CompetencySpec("pos-terminals", "Платёжные терминалы", "pos_terminal", "field", "ПТ"),
    CompetencySpec("pentest-perimeter", "Пентест внешнего периметра", "", "specialist", "ПТСТ"),
    CompetencySpec("phishing-managed", "Учебные фишинговые рассылки", "", "specialist", "ФШ"),
    CompetencySpec("dlp-rollout", "Внедрение DLP", "", "specialist", "DLP"),
    CompetencySpec("networking-complex", "Сложные сетевые проекты", "", "specialist", "ССП"),
    CompetencySpec("cloud-migration", "Миграция в облако", "", "strategic", "ОБЛ"),
    CompetencySpec("bitrix", "Внедрение Битрикс24", "", "strategic", "БХ"),
    CompetencySpec("self-checkout-rollout", "Массовая установка КСО", "", "strategic", "ВКСО"),
)

FIELD_COMPETENCIES = tuple(c.code for c in COMPETENCIES if c.level == "field")


class PartnerSpec(NamedTuple):
    """A demo partner. ``slug`` names its users (``<slug>.manager``, ``<slug>.eng1``…)."""

    slug: str
    name: str
    kind: str
    regions: str  # space-separated region codes; the first is where its office is
    competencies: tuple[str, ...] = FIELD_COMPETENCIES
    engineers: int = 3

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(self.regions.split())

    @property
    def home(self) -> str:
        return self.region_codes[0]


_CENTRE = "RU-MOW RU-MOS RU-TVE RU-KLU RU-TUL RU-RYA RU-VLA RU-YAR"
_SOUTH = "RU-KDA RU-ROS RU-STA RU-AD RU-KC RU-KB RU-SE RU-DA RU-CE RU-IN RU-KL"
_VOLGA = "RU-NIZ RU-TA RU-CU RU-ME RU-MO RU-PNZ RU-SAM RU-ULY RU-SAR RU-UD"
_SEC = ("pentest-perimeter", "phishing-managed")

# The partner the demo logins ``partner`` and ``engineer`` belong to: it covers Moscow.
DEMO_PARTNER_SLUG = "tv-stolitsa"

# Two or more operational partners cover every region where a demo store stands; seed_demo
# checks that, so a dispatcher always has a backup to escalate to.
PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec("tv-stolitsa", "ТехВыезд-Столица", "operational", _CENTRE, engineers=4),
    PartnerSpec(
        "moskass",
        "МосКассСервис",
        "operational",
        "RU-MOW RU-MOS RU-TUL RU-KLU RU-SMO RU-BRY RU-ORL RU-KRS RU-VLA",
    ),
    PartnerSpec(
        "nevsky",
        "Невский Сервис",
        "operational",
        "RU-SPE RU-LEN RU-NGR RU-PSK RU-KR RU-MUR RU-ARK RU-VLG RU-KGD",
    ),
    PartnerSpec(
        "baltic", "Балтик-ТехСервис", "operational", "RU-KGD RU-SPE RU-LEN RU-PSK RU-NGR RU-SMO"
    ),
    PartnerSpec(
        "sever",
        "Северный Выезд",
        "operational",
        "RU-ARK RU-MUR RU-KO RU-VLG RU-KR RU-NEN RU-YAR RU-KOS RU-IVA RU-KIR",
        engineers=2,
    ),
    PartnerSpec(
        "chernozem",
        "ЧерноземТехСервис",
        "operational",
        "RU-VOR RU-BEL RU-LIP RU-TAM RU-KRS RU-ORL RU-BRY RU-IVA RU-KOS RU-TVE RU-RYA",
    ),
    PartnerSpec(
        "vorkass", "Воронеж-КассТех", "operational", "RU-VOR RU-BEL RU-LIP RU-TAM RU-KRS RU-ORL"
    ),
    PartnerSpec(
        "yugkassa",
        "ЮгКассаСервис",
        "operational",
        "RU-ROS RU-KDA RU-STA RU-AD RU-KC RU-KB RU-SE RU-DA RU-CE RU-IN RU-KL RU-VGG RU-AST",
    ),
    PartnerSpec("kuban", "Кубань-ТехВыезд", "operational", _SOUTH),
    PartnerSpec("volga", "Волга-Сервис", "operational", f"{_VOLGA} RU-KIR", engineers=4),
    PartnerSpec(
        "tv-povolzhye",
        "ТехВыезд-Поволжье",
        "operational",
        "RU-SAM RU-SAR RU-ULY RU-PNZ RU-TA RU-NIZ RU-CU RU-MO RU-ME RU-VGG RU-AST RU-BA RU-ORE",
    ),
    PartnerSpec(
        "tv-ural",
        "ТехВыезд-Урал",
        "operational",
        "RU-SVE RU-CHE RU-PER RU-BA RU-ORE RU-KGN RU-TYU RU-UD",
        engineers=4,
    ),
    PartnerSpec(
        "uralkass",
        "УралКассСервис",
        "operational",
        "RU-CHE RU-SVE RU-PER RU-BA RU-TYU RU-KGN RU-KHM RU-YAN RU-ORE RU-KO",
    ),
    PartnerSpec(
        "yugra", "Югра-Сервис", "operational", "RU-KHM RU-YAN RU-TYU RU-OMS RU-NEN", engineers=2
    ),
    PartnerSpec(
        "sibtv",
        "СибТехВыезд",
        "operational",
        "RU-NVS RU-OMS RU-TOM RU-KEM RU-ALT RU-AL RU-KYA RU-KK RU-TY",
    ),
    PartnerSpec(
        "enisey",
        "Енисей-Сервис",
        "operational",
        "RU-KYA RU-KK RU-TY RU-NVS RU-KEM RU-TOM RU-IRK RU-OMS RU-ALT RU-AL",
    ),
    PartnerSpec(
        "baikal", "Байкал-ТехСервис", "operational", "RU-IRK RU-BU RU-ZAB RU-SA RU-AMU", engineers=2
    ),
    PartnerSpec(
        "dalvyezd",
        "ДальВыезд",
        "operational",
        "RU-KHA RU-PRI RU-YEV RU-AMU RU-SAK RU-MAG RU-KAM RU-CHU RU-SA RU-ZAB RU-BU",
    ),
    PartnerSpec(
        "tikhookean",
        "Тихоокеанский Сервис",
        "operational",
        "RU-PRI RU-KHA RU-SAK RU-KAM RU-MAG RU-YEV RU-CHU",
        engineers=2,
    ),
    PartnerSpec("beltech", "БелТехСервис", "operational", "BY-HM", engineers=2),
    PartnerSpec("evrazia", "Евразия Выезд", "operational", "RU-MOW RU-MOS BY-HM KZ-75 KZ-71"),
    PartnerSpec("alatau", "Алатау-Сервис", "operational", "KZ-75 KZ-71", engineers=2),
    PartnerSpec(
        "kibershield", "КиберЩит", "specialist", "RU-MOW RU-SPE", (*_SEC, "dlp-rollout"), 2
    ),
    PartnerSpec("perimetr", "Периметр Секьюрити", "specialist", "RU-SPE RU-MOW", _SEC, 2),
    PartnerSpec(
        "setproekt",
        "СетьПроект Интеграция",
        "specialist",
        "RU-NIZ RU-MOW RU-SVE",
        ("networking-complex", "network-field"),
        2,
    ),
    PartnerSpec(
        "oblakotech",
        "ОблакоТех Интеграция",
        "strategic",
        "RU-MOW",
        ("cloud-migration", "bitrix"),
        1,
    ),
    PartnerSpec(
        "retailtech",
        "РитейлТех Внедрение",
        "strategic",
        "RU-MOW RU-SPE RU-SVE RU-NVS",
        ("self-checkout-rollout", "self-checkout"),
        1,
    ),
)

# Partner OLA targets, drawn per partner contract. They back the client SLAs up, so each must
# be at least as tight as the tightest client target of its metric (sla.services.
# validate_ola_against_sla, which seed_demo runs for every partner contract): arrival 4 h and
# resolution 8 h, the grocery chain's P1 (tickets.demo_sla.POLICIES).
OLA_ACCEPT_MINUTES: tuple[int, ...] = (15, 20, 30)
OLA_ARRIVE_HOURS: tuple[int, ...] = (2, 3, 4)
OLA_RESOLVE_HOURS: tuple[int, ...] = (4, 6, 8)

# Partners whose OLA counts in their own working hours rather than in the client SLA's
# calendar: slug -> (weekdays, opens hour, closes hour) in the zone of the partner's home
# region, which all its regions share.
OLA_HOURS: dict[str, tuple[tuple[int, ...], int, int]] = {
    "moskass": ((0, 1, 2, 3, 4, 5), 8, 20),
    "vorkass": ((0, 1, 2, 3, 4, 5), 8, 20),
    "kuban": ((0, 1, 2, 3, 4, 5), 8, 20),
    "beltech": ((0, 1, 2, 3, 4, 5), 9, 21),
}

MALE_FIRST = (
    "Алексей",
    "Андрей",
    "Дмитрий",
    "Сергей",
    "Иван",
    "Михаил",
    "Николай",
    "Павел",
    "Роман",
    "Артём",
    "Егор",
    "Владимир",
    "Максим",
    "Константин",
    "Тимур",
    "Олег",
)
FEMALE_FIRST = (
    "Анна",
    "Ольга",
    "Елена",
    "Мария",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Екатерина",
    "Дарья",
    "Ксения",
)
# Surnames with a masculine -ов/-ев/-ин ending; the feminine form adds "а".
SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Петров",
    "Волков",
    "Соловьёв",
    "Васильев",
    "Зайцев",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Михайлов",
    "Беляев",
    "Тарасов",
    "Белов",
    "Комаров",
    "Орлов",
    "Киселёв",
    "Макаров",
    "Андреев",
    "Ковалёв",
    "Ильин",
    "Гусев",
    "Титов",
    "Кузьмин",
    "Кудрявцев",
    "Баранов",
    "Куликов",
    "Алексеев",
    "Степанов",
)


class DemoUser(NamedTuple):
    """A named demo login; ``org`` is "provider", a chain code or a partner slug."""

    username: str
    first_name: str
    last_name: str
    role: str
    org: str
    time_zone: str = "Europe/Moscow"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Алексей", "Смирнов", "provider_admin", "provider"),
    DemoUser("dispatcher", "Ольга", "Кузнецова", "dispatcher", "provider"),
    DemoUser("dispatcher2", "Игорь", "Волков", "dispatcher", "provider", "Asia/Novosibirsk"),
    DemoUser("client", "Марина", "Соколова", "client_manager", "GMT"),
    DemoUser("client_mkv", "Виктория", "Лебедева", "client_manager", "MKV"),
    DemoUser("client_apz", "Георгий", "Новиков", "client_manager", "APZ"),
    DemoUser("store", "Светлана", "Морозова", "store_staff", "GMT"),
    DemoUser("partner", "Павел", "Орлов", "partner_manager", DEMO_PARTNER_SLUG),
    DemoUser("engineer", "Дмитрий", "Козлов", "partner_engineer", DEMO_PARTNER_SLUG),
)
# Logins printed by the command and checked by the tests: username -> role.
DEMO_LOGINS: dict[str, str] = {
    "admin": "provider_admin",
    "dispatcher": "dispatcher",
    "client": "client_manager",
    "store": "store_staff",
    "partner": "partner_manager",
    "engineer": "partner_engineer",
}


class Problem(NamedTuple):
    """A typical incident. ``{n}`` in the subject is the number of the device at the store."""

    equipment_kind: str  # "" for problems that concern no device (accounts)
    category: str
    subject: str
    description: str
    remote_fix: str  # what the first line did when it was solved remotely; "" if it cannot be
    visit_report: str  # what the engineer did on site; "" if no visit is ever needed
    parts: tuple[str, ...] = ()
    kind: str = "incident"
    urgent: bool = False


PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "cash_register",
        "hardware",
        "Касса №{n} не включается",
        "После отключения электричества касса №{n} не запускается, индикатор питания не горит.",
        "Кассир переподключил блок питания к другой розетке по нашей инструкции, касса работает.",
        "Заменён блок питания кассы, проведён тестовый чек.",
        ("Блок питания 24 В",),
        urgent=True,
    ),
    Problem(
        "cash_register",
        "hardware",
        "Касса №{n} зависает при пробитии чека",
        "На третьем-четвёртом чеке касса перестаёт реагировать, помогает только перезагрузка.",
        "Удалённо очищена очередь документов и перезапущено кассовое ПО, зависания прекратились.",
        "Заменён SSD-накопитель кассы, переустановлено кассовое ПО.",
        ("SSD 128 ГБ",),
    ),
    Problem(
        "cash_register",
        "hardware",
        "Не работает сканер штрихкодов на кассе №{n}",
        "Сканер не считывает штрихкоды, товары приходится вводить вручную.",
        "Сканер переключён в режим эмуляции клавиатуры, считывание восстановлено.",
        "Заменён сканер штрихкодов, проверено считывание EAN-13 и DataMatrix.",
        ("Сканер Honeywell 1450g",),
    ),
    Problem(
        "cash_register",
        "hardware",
        "Сенсорный экран кассы №{n} не реагирует на нажатия",
        "Экран отображает картинку, но касания в правой части не срабатывают.",
        "",
        "Заменён сенсорный модуль, выполнена калибровка экрана.",
        ('Сенсорная панель 15"',),
    ),
    Problem(
        "cash_register",
        "hardware",
        "Не открывается денежный ящик на кассе №{n}",
        "После печати чека денежный ящик не открывается, ключом открывается.",
        "Включён сигнал открытия ящика в настройках драйвера ККТ.",
        "Заменён кабель денежного ящика RJ-12.",
        ("Кабель RJ-12",),
    ),
    Problem(
        "cash_register",
        "software",
        "Касса №{n} не выгружает продажи в учётную систему",
        "Со вчерашнего вечера продажи кассы №{n} не видны в бэк-офисе.",
        "Перезапущена служба обмена, выгрузка продаж за период повторена.",
        "",
    ),
    Problem(
        "cash_register",
        "software",
        "На кассе №{n} не обновились цены",
        "На кассе пробиваются старые цены, на ценниках уже новые.",
        "Пакет цен загружен на кассу повторно, кассир выполнил обновление справочников.",
        "",
    ),
    Problem(
        "fiscal_printer",
        "fiscal",
        "Не печатает фискальный регистратор на кассе №{n}",
        "ФР выдаёт ошибку печати, чеки не печатаются, очередь покупателей.",
        "Кассир по инструкции перезаправил чековую ленту, печать восстановлена.",
        "Заменена термопечатающая головка ФР, напечатан тестовый чек.",
        ("Термоголовка",),
        urgent=True,
    ),
    Problem(
        "fiscal_printer",
        "fiscal",
        "Исчерпан ресурс фискального накопителя на кассе №{n}",
        "ФР сообщает о заполнении ФН, осталось несколько дней до блокировки.",
        "",
        "Заменён фискальный накопитель, ККТ перерегистрирована в ФНС, отчёт отправлен в ОФД.",
        ("Фискальный накопитель ФН-1.2 на 15 мес.",),
    ),
    Problem(
        "fiscal_printer",
        "fiscal",
        "ФР на кассе №{n} не передаёт чеки в ОФД",
        "В личном кабинете ОФД нет чеков с кассы №{n} уже больше суток.",
        "Восстановлены сетевые настройки ФР, очередь документов отправлена в ОФД.",
        "",
    ),
    Problem(
        "fiscal_printer",
        "fiscal",
        "Замятие чековой ленты в ФР кассы №{n}",
        "Лента замялась внутри регистратора, крышку открыть не получается.",
        "Кассир открыл крышку по нашей инструкции и извлёк ленту, ФР работает.",
        "Очищен тракт подачи бумаги, заменён отрезчик.",
        ("Автоотрезчик",),
    ),
    Problem(
        "cctv",
        "cctv",
        "Нет изображения с камеры над входом",
        "На видеорегистраторе чёрный экран по камере входной группы.",
        "Камера перезагружена удалённо по PoE, изображение появилось.",
        "Заменён PoE-инжектор камеры, изображение восстановлено.",
        ("PoE-инжектор",),
    ),
    Problem(
        "cctv",
        "cctv",
        "Видеорегистратор не записывает архив",
        "Служба безопасности не может найти записи за последние двое суток.",
        "",
        "Заменён жёсткий диск видеорегистратора, запись архива проверена.",
        ("HDD 4 ТБ WD Purple",),
    ),
    Problem(
        "cctv",
        "cctv",
        "Размытое изображение с камеры в торговом зале",
        "Камера над кассовой зоной показывает мутную картинку, лица не различить.",
        "",
        "Очищен купол камеры, выполнена перефокусировка объектива.",
    ),
    Problem(
        "cctv",
        "cctv",
        "Нет удалённого доступа к видеонаблюдению",
        "Из офиса не подключиться к видеорегистратору магазина.",
        "Проброшен порт на роутере магазина, доступ к регистратору восстановлен.",
        "",
    ),
    Problem(
        "self_checkout",
        "hardware",
        "КСО зависает на оплате картой",
        "Касса самообслуживания №{n} зависает на экране оплаты, покупатели уходят на кассы.",
        "Удалённо перезапущен платёжный модуль КСО.",
        "Обновлена прошивка платёжного модуля КСО, проведена тестовая оплата.",
        urgent=True,
    ),
    Problem(
        "self_checkout",
        "hardware",
        "КСО №{n} не принимает купюры",
        "Купюроприёмник возвращает все купюры обратно.",
        "",
        "Очищен купюроприёмник, заменён ремень транспортёра.",
        ("Ремень транспортёра купюроприёмника",),
    ),
    Problem(
        "self_checkout",
        "hardware",
        "Весы зоны упаковки КСО №{n} выдают ошибку",
        "КСО просит позвать сотрудника после каждого товара.",
        "Выполнено обнуление весов зоны упаковки через сервисное меню.",
        "Откалиброваны весы зоны упаковки, заменён датчик веса.",
        ("Тензодатчик",),
    ),
    Problem(
        "network",
        "network",
        "Нет интернета в магазине",
        "Кассы не проводят оплату картами, ОФД недоступен, интернета нет.",
        "Провайдер устранил аварию на линии, магазин работал через резервный LTE-канал.",
        "Заменён роутер, настроен резервный канал LTE.",
        ("Роутер", "LTE-модем"),
        urgent=True,
    ),
    Problem(
        "network",
        "network",
        "Медленный интернет, оплата картой проходит по минуте",
        "Оплата картой идёт очень долго, очередь у касс.",
        "Снят ограничитель скорости у провайдера, перераспределены приоритеты трафика.",
        "",
    ),
    Problem(
        "network",
        "network",
        "Не работает Wi-Fi для терминалов сбора данных",
        "ТСД на складе не подключаются к сети, приёмка товара остановлена.",
        "",
        "Заменена точка доступа Wi-Fi на складе.",
        ("Точка доступа Wi-Fi",),
    ),
    Problem(
        "network",
        "network",
        "Коммутатор в серверной постоянно перезагружается",
        "Каждые полчаса пропадает связь у всех касс на пару минут.",
        "",
        "Заменён блок питания коммутатора, проверена работа всех портов.",
        ("Блок питания коммутатора",),
    ),
    Problem(
        "pos_terminal",
        "hardware",
        "Терминал оплаты на кассе №{n} не проводит карты",
        "Терминал пишет «Нет связи с банком», оплата картой недоступна.",
        "Выполнены сверка итогов и перезагрузка терминала, связь с банком восстановлена.",
        "Заменён платёжный терминал на подменный из фонда партнёра.",
        ("Подменный терминал",),
        urgent=True,
    ),
    Problem(
        "pos_terminal",
        "hardware",
        "Терминал на кассе №{n} не печатает слип",
        "Оплата проходит, но слип не печатается.",
        "Включена печать слипа на принтере кассы вместо встроенного.",
        "",
    ),
    Problem(
        "pos_terminal",
        "software",
        "Не работает оплата по QR-коду (СБП)",
        "Покупатели не могут оплатить по QR, касса выдаёт ошибку сервиса.",
        "Обновлён сертификат платёжного сервиса на кассовом сервере.",
        "",
    ),
    Problem(
        "scales",
        "hardware",
        "Весы в отделе овощей не печатают этикетки",
        "Весы взвешивают, но этикетка выходит пустой.",
        "Сотрудник заменил рулон термоэтикеток на подходящий по нашей инструкции.",
        "Заменён принтер этикеток весов, проведена поверочная печать.",
        ("Печатающий механизм весов",),
    ),
    Problem(
        "",
        "access",
        "Заблокирована учётная запись кассира",
        "Кассир трижды ошибся паролем, не может войти в кассовую программу.",
        "Учётная запись разблокирована, временный пароль передан директору магазина.",
        "",
    ),
    Problem(
        "",
        "access",
        "Нужен доступ к личному кабинету ОФД для нового директора",
        "В магазине сменился директор, прошу выдать ему доступ к кабинету ОФД.",
        "Доступ выдан, приглашение отправлено на корпоративную почту директора.",
        "",
        kind="request",
    ),
    Problem(
        "cctv",
        "cctv",
        "Перенести камеру видеонаблюдения к двери склада",
        "После перестановки стеллажей камера смотрит в стену, нужно перенести её к складу.",
        "",
        "Камера перенесена и перенастроена, зона обзора согласована с директором.",
        ("Кабель UTP 20 м",),
        kind="request",
    ),
)

FIRST_RESPONSES = (
    "Добрый день! Заявка принята, инженер первой линии уже разбирается.",
    "Здравствуйте! Приняли в работу, сейчас подключимся удалённо.",
    "Добрый день, заявку видим, перезвоним в магазин в течение нескольких минут.",
    "Здравствуйте! Взяли в работу, уточним детали по телефону магазина.",
)
VISIT_NEEDED = (
    "Удалённо проблему не решить, направляем инженера партнёра.",
    "Нужен выезд: подбираем ближайшего инженера.",
    "Требуется замена оборудования на месте, организуем выезд.",
)
QUESTIONS = (
    "Пришлите, пожалуйста, фото ошибки на экране.",
    "Уточните, пожалуйста, серийный номер устройства с наклейки на корпусе.",
    "Подскажите, когда удобно подключиться: сейчас в магазине очередь?",
)
ANSWERS = (
    "Фото отправили на почту поддержки.",
    "Серийный номер продиктовали по телефону.",
    "Можно подключаться после 15:00 по местному времени.",
)
THANKS = (
    "Спасибо, всё работает.",
    "Проверили, проблема ушла. Спасибо!",
    "Работает, заявку можно закрывать.",
)
INTERNAL_NOTES = (
    "Повторное обращение по этому устройству за месяц — проверить гарантию.",
    "Партнёр предупредил о возможной задержке из-за пробок.",
    "Директор магазина просил звонить только на мобильный.",
    "Похоже на массовую проблему у провайдера в регионе, слежу за соседними магазинами.",
)
SECOND_LINE_NOTES = (
    "Передали второй линии: нужен разбор логов кассового ПО.",
    "Эскалировали производителю, ждём ответа его техподдержки.",
    "Нужна прошивка от вендора, запрос отправлен.",
    "Похоже на сбой у ОФД, открыли обращение к оператору.",
)
DECLINE_REASONS = (
    "Нет свободных инженеров в этом районе.",
    "Все инженеры на выездах до вечера.",
    "Нет нужной запчасти на складе.",
)
CANCEL_NOTES = (
    "Дубликат заявки, работы ведутся по основной.",
    "Магазин сообщил, что проблема решилась сама, заявку отменяем.",
)
