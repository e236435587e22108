"""Reference list of regions used by client records and demo data.

``REGIONS`` holds every federal subject of Russia that has an ISO 3166-2:RU
code (83 subdivisions: 21 republics, 9 krais, 46 oblasts, 2 federal cities,
1 autonomous oblast and 4 autonomous okrugs), followed by the CIS capitals
that the demo data uses.

Each row carries the ISO 3166-2 code, the Russian and English names, the IANA
time zone of the subdivision's capital as the tz database (``zone.tab``)
assigns it, and the ISO 3166-1 alpha-2 country code.

Notes:
* RU-CHU (capital Anadyr) uses ``Asia/Anadyr``, the zone.tab entry located at
  Anadyr itself (UTC+12, same offset as ``Asia/Kamchatka``).
* Leningrad Oblast (RU-LEN) has its administrative centre in Gatchina; like
  Saint Petersburg it is on ``Europe/Moscow``.
"""

from typing import NamedTuple


class RegionRow(NamedTuple):
    code: str
    name_ru: str
    name_en: str
    time_zone: str
    country: str


REGIONS: tuple[RegionRow, ...] = (
    # --- Russia: republics (21) ---
    RegionRow("RU-AD", "Республика Адыгея", "Adygea Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-AL", "Республика Алтай", "Altai Republic", "Asia/Barnaul", "RU"),
    RegionRow(
        "RU-BA", "Республика Башкортостан", "Bashkortostan Republic", "Asia/Yekaterinburg", "RU"
    ),
    RegionRow("RU-BU", "Республика Бурятия", "Buryatia Republic", "Asia/Irkutsk", "RU"),
    RegionRow("RU-CE", "Чеченская Республика", "Chechen Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-CU", "Чувашская Республика", "Chuvash Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-DA", "Республика Дагестан", "Dagestan Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-IN", "Республика Ингушетия", "Ingushetia Republic", "Europe/Moscow", "RU"),
    RegionRow(
        "RU-KB",
        "Кабардино-Балкарская Республика",
        "Kabardino-Balkar Republic",
        "Europe/Moscow",
        "RU",
    ),
    RegionRow("RU-KL", "Республика Калмыкия", "Kalmykia Republic", "Europe/Moscow", "RU"),
    RegionRow(
        "RU-KC",
        "Карачаево-Черкесская Республика",
        "Karachay-Cherkess Republic",
        "Europe/Moscow",
        "RU",
    ),
    RegionRow("RU-KR", "Республика Карелия", "Karelia Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-KO", "Республика Коми", "Komi Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-ME", "Республика Марий Эл", "Mari El Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-MO", "Республика Мордовия", "Mordovia Republic", "Europe/Moscow", "RU"),
    RegionRow(
        "RU-SA",
        "Республика Саха (Якутия)",
        "Sakha (Yakutia) Republic",
        "Asia/Yakutsk",
        "RU",
    ),
    RegionRow(
        "RU-SE",
        "Республика Северная Осетия — Алания",
        "North Ossetia-Alania Republic",
        "Europe/Moscow",
        "RU",
    ),
    RegionRow("RU-TA", "Республика Татарстан", "Tatarstan Republic", "Europe/Moscow", "RU"),
    RegionRow("RU-TY", "Республика Тыва", "Tuva Republic", "Asia/Krasnoyarsk", "RU"),
    RegionRow("RU-UD", "Удмуртская Республика", "Udmurt Republic", "Europe/Samara", "RU"),
    RegionRow("RU-KK", "Республика Хакасия", "Khakassia Republic", "Asia/Krasnoyarsk", "RU"),
    # --- Russia: krais (9) ---
    RegionRow("RU-ALT", "Алтайский край", "Altai Krai", "Asia/Barnaul", "RU"),
    RegionRow("RU-KDA", "Краснодарский край", "Krasnodar Krai", "Europe/Moscow", "RU"),
    RegionRow("RU-KAM", "Камчатский край", "Kamchatka Krai", "Asia/Kamchatka", "RU"),
    RegionRow("RU-KHA", "Хабаровский край", "Khabarovsk Krai", "Asia/Vladivostok", "RU"),
    RegionRow("RU-KYA", "Красноярский край", "Krasnoyarsk Krai", "Asia/Krasnoyarsk", "RU"),
    RegionRow("RU-PER", "Пермский край", "Perm Krai", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-PRI", "Приморский край", "Primorsky Krai", "Asia/Vladivostok", "RU"),
    RegionRow("RU-STA", "Ставропольский край", "Stavropol Krai", "Europe/Moscow", "RU"),
    RegionRow("RU-ZAB", "Забайкальский край", "Zabaykalsky Krai", "Asia/Chita", "RU"),
    # --- Russia: oblasts (46) ---
    RegionRow("RU-AMU", "Амурская область", "Amur Oblast", "Asia/Yakutsk", "RU"),
    RegionRow("RU-ARK", "Архангельская область", "Arkhangelsk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-AST", "Астраханская область", "Astrakhan Oblast", "Europe/Astrakhan", "RU"),
    RegionRow("RU-BEL", "Белгородская область", "Belgorod Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-BRY", "Брянская область", "Bryansk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-CHE", "Челябинская область", "Chelyabinsk Oblast", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-IRK", "Иркутская область", "Irkutsk Oblast", "Asia/Irkutsk", "RU"),
    RegionRow("RU-IVA", "Ивановская область", "Ivanovo Oblast", "Europe/Moscow", "RU"),
    RegionRow(
        "RU-KGD", "Калининградская область", "Kaliningrad Oblast", "Europe/Kaliningrad", "RU"
    ),
    RegionRow("RU-KLU", "Калужская область", "Kaluga Oblast", "Europe/Moscow", "RU"),
    RegionRow(
        "RU-KEM", "Кемеровская область — Кузбасс", "Kemerovo Oblast", "Asia/Novokuznetsk", "RU"
    ),
    RegionRow("RU-KIR", "Кировская область", "Kirov Oblast", "Europe/Kirov", "RU"),
    RegionRow("RU-KOS", "Костромская область", "Kostroma Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-KGN", "Курганская область", "Kurgan Oblast", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-KRS", "Курская область", "Kursk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-LEN", "Ленинградская область", "Leningrad Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-LIP", "Липецкая область", "Lipetsk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-MAG", "Магаданская область", "Magadan Oblast", "Asia/Magadan", "RU"),
    RegionRow("RU-MOS", "Московская область", "Moscow Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-MUR", "Мурманская область", "Murmansk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-NIZ", "Нижегородская область", "Nizhny Novgorod Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-NGR", "Новгородская область", "Novgorod Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-NVS", "Новосибирская область", "Novosibirsk Oblast", "Asia/Novosibirsk", "RU"),
    RegionRow("RU-OMS", "Омская область", "Omsk Oblast", "Asia/Omsk", "RU"),
    RegionRow("RU-ORE", "Оренбургская область", "Orenburg Oblast", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-ORL", "Орловская область", "Oryol Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-PNZ", "Пензенская область", "Penza Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-PSK", "Псковская область", "Pskov Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-ROS", "Ростовская область", "Rostov Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-RYA", "Рязанская область", "Ryazan Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-SAK", "Сахалинская область", "Sakhalin Oblast", "Asia/Sakhalin", "RU"),
    RegionRow("RU-SAM", "Самарская область", "Samara Oblast", "Europe/Samara", "RU"),
    RegionRow("RU-SAR", "Саратовская область", "Saratov Oblast", "Europe/Saratov", "RU"),
    RegionRow("RU-SMO", "Смоленская область", "Smolensk Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-SVE", "Свердловская область", "Sverdlovsk Oblast", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-TAM", "Тамбовская область", "Tambov Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-TOM", "Томская область", "Tomsk Oblast", "Asia/Tomsk", "RU"),
    RegionRow("RU-TUL", "Тульская область", "Tula Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-TVE", "Тверская область", "Tver Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-TYU", "Тюменская область", "Tyumen Oblast", "Asia/Yekaterinburg", "RU"),
    RegionRow("RU-ULY", "Ульяновская область", "Ulyanovsk Oblast", "Europe/Ulyanovsk", "RU"),
    RegionRow("RU-VLA", "Владимирская область", "Vladimir Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-VGG", "Волгоградская область", "Volgograd Oblast", "Europe/Volgograd", "RU"),
    RegionRow("RU-VLG", "Вологодская область", "Vologda Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-VOR", "Воронежская область", "Voronezh Oblast", "Europe/Moscow", "RU"),
    RegionRow("RU-YAR", "Ярославская область", "Yaroslavl Oblast", "Europe/Moscow", "RU"),
    # --- Russia: federal cities (2) ---
    RegionRow("RU-MOW", "Москва", "Moscow", "Europe/Moscow", "RU"),
    RegionRow("RU-SPE", "Санкт-Петербург", "Saint Petersburg", "Europe/Moscow", "RU"),
    # --- Russia: autonomous oblast (1) ---
    RegionRow(
        "RU-YEV",
        "Еврейская автономная область",
        "Jewish Autonomous Oblast",
        "Asia/Vladivostok",
        "RU",
    ),
    # --- Russia: autonomous okrugs (4) ---
    RegionRow(
        "RU-CHU", "Чукотский автономный округ", "Chukotka Autonomous Okrug", "Asia/Anadyr", "RU"
    ),
    RegionRow(
        "RU-KHM",
        "Ханты-Мансийский автономный округ — Югра",
        "Khanty-Mansi Autonomous Okrug - Yugra",
        "Asia/Yekaterinburg",
        "RU",
    ),
    RegionRow(
        "RU-NEN", "Ненецкий автономный округ", "Nenets Autonomous Okrug", "Europe/Moscow", "RU"
    ),
    RegionRow(
        "RU-YAN",
        "Ямало-Ненецкий автономный округ",
        "Yamalo-Nenets Autonomous Okrug",
        "Asia/Yekaterinburg",
        "RU",
    ),
    # --- CIS capitals used by the demo data ---
    RegionRow("BY-HM", "Минск", "Minsk", "Europe/Minsk", "BY"),
    # Kazakhstan's ISO 3166-2 codes are numeric now: KZ-75 (Almaty city) and
    # KZ-71 (Astana) replaced the former alpha codes KZ-ALA and KZ-AST. Third-party
    # copies of the ISO change history date the change to November 2022.
    # Asia/Almaty covers both cities (all of Kazakhstan moved to UTC+5 on 2024-03-01).
    RegionRow("KZ-75", "Алматы", "Almaty", "Asia/Almaty", "KZ"),
    RegionRow("KZ-71", "Астана", "Astana", "Asia/Almaty", "KZ"),
    RegionRow("UZ-TK", "Ташкент", "Tashkent", "Asia/Tashkent", "UZ"),
    RegionRow("KG-GB", "Бишкек", "Bishkek", "Asia/Bishkek", "KG"),
    RegionRow("AM-ER", "Ереван", "Yerevan", "Asia/Yerevan", "AM"),
)
