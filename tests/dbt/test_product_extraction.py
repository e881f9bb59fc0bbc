"""Product and price extraction end to end: posts loaded by the project's loader, every model from staging to
marts.fct_product_mentions built by real dbt with the real seeds (the generated medicine names included), and
the mentions read back. Each case is a real post or its shape (lobelia4cosmetics; tikvahpharma,
pharmacyhubethiopia and addispharma from sample/extraction_eval/channel_posts.json), with what a reader of the
post finds in it. The models' own steps have dbt unit tests beside them (models/*/_*.yml)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from medical_telegram import lake
from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

LOBELIA_FOOTER = (
    "\nTelegram :-@Lobeliacosmetics\nMsg👉 Lobelia pharmacy and cosmetics \n☎️ call 0911562031/0911587703\n"
    "Adress:- Infront of Bole Medhanialem high school \nALEMNESH PLAZA GROUND FLOOR \nOpen Monday - Monday from "
    "8am until midnight ከሰኞ - እስከ ሰኞ  ከጧቱ 2:00 ስዓት - እስከ ምሽቱ 6:00 ሰዓት\n🏍🏍🏍 የትራንስፖርት አማራጭ ከ70 - 500 ብር\n"
    "For delivery option fees are from 70 birr -500 birr"
)

# (channel, message_id) -> text
POSTS = {
    # lobelia4cosmetics, as scraped: the price is the post's own, never the delivery-fee boilerplate
    ("shop", 1): "PRENATAL 60 GUMMIES \nPrice 5000 birr " + LOBELIA_FOOTER,
    ("shop", 2): "Ashwagandha 180 tablets \nPrice 7500" + LOBELIA_FOOTER,
    ("shop", 3): "Lilcretters \nPrice 5000 birr " + LOBELIA_FOOTER,
    ("shop", 4): "NIDO1+ 2.2kg\nPrice 7500 birr " + LOBELIA_FOOTER,
    ("shop", 5): "ENSURE LIQUID 75% PROTEIN \nPrice 1200 birr " + LOBELIA_FOOTER,
    ("shop", 6): "SUPER C WITH VITAMIN D3 & ZINC\nPrice 6500 birr " + LOBELIA_FOOTER,
    ("shop", 7): "",
    # other price forms, brands and their types
    ("shop", 11): "ፓናዶል 500mg 100 tablets\nዋጋ 2,450 ብር\nየትራንስፖርት አማራጭ ከ100 - 300 ብር",
    ("shop", 12): "Vitamin C 1000mg - 900 ETB\nOmeprazole 20 mg 28 caps - ETB 1,200",
    ("shop", 13): "Amoxicillin and Paracetamol available.\nPrice: 350 birr",
    ("shop", 14): "CeraVe moisturizing cream back in stock!",
    ("shop", 15): "Nivea body lotion 400ml\nPrice 350 birr",
    ("shop", 16): "NIVEA\nOriginal from Germany\nPrice 650 birr",
    ("shop", 17): "ኒቪያ ሎሽን 400 ሚሊ\nዋጋ 850 ብር",
    ("shop", 18): "Paracetamol 500mg 100 tablets\nPrice 150 birr",
    # old and new prices, phone numbers and years
    ("shop", 21): "CeraVe Moisturizing Cream 340g\nOld price 3,000 birr\nNew price 2,500 birr",
    ("shop", 22): "Nivea body lotion 250ml\nPrice 900 birr ❌ 750 birr ✅",
    ("shop", 23): "ቫይታሚን ሲ 1000 ሚ.ግ\nዋጋ ከ1,500 ብር ወደ 1,200 ብር ቀንሷል",
    ("shop", 24): "Ensure liquid 237ml\nNew price 1,100 birr (old price 1,300 birr)",
    ("shop", 25): "Nivea body lotion 400ml - 850 birr\nCeraVe cleanser 236ml - 2,400 ETB\nDove soap 100g - 120 birr",
    ("shop", 26): "Cetaphil cleanser 236ml\nPrice - 0911223344 (call us)",
    ("shop", 27): "Coconut oil 1L\nPrice 1,250 birr\nCall 0911223344 or 0922334455",
    ("shop", 28): "Christmas 2025 Birr 750 only!\nNivea cream 150ml",
    ("shop", 29): "Ciprofloxacin 500mg\nPrice 2017 E.C. list: 320 birr",
    ("shop", 30): "ሜላቶኒን\nዋጋ 2018 ዓ.ም",
    ("shop", 31): "Dove shampoo 400ml\n1,000 birr ➡️ 850 birr",
    # tikvahpharma 170751: a wholesale price list, one item per line, 💵 prices, misspellings, Greek capitals
    ("tikvahpharma", 170751): (
        "🏩 MT  PHARMA IMPORT\n\nNEW ARRIVAL \n\n✅CLAVΑΜΥΝ-625 MG tab2×10 💵 390\n✅NOVAMENTIN 625MG off 14💵258\n"
        "✅Mebendazole 500mg(X-WORM)\n 💵23birr\n✅Omeprazole 20mg cap 💵145\n✅Azitromycine 500mg 3×10 💵57\n"
        "✅Amlodipine10mg10x10💵270\n✅Ferrous with folic  💵161\n✅ETT  3 💵230 ETT 3.5,4, & 4.5  💵225\n"
        "✅suction 8fg &14 fg 💵48/58\n✅Spinal Needle 22,23,24 💵108.50\n✅ Baby weight scale tray type \n💵3,800\n"
        "✅Malaria antigen pf/pv OFF 30\n💵1300birr\n\n🚒Free and Fast delivery \n\n            Meski 📲0912464540"),
    # pharmacyhubethiopia: blocks with stock, expiry and price on request; "=75 birr"
    ("pharmacyhubethiopia", 50682): (
        "💊Diclofenac Gel 15g\n\u00a0\u00a0\u00a0\u00a0 💵: 👌\n\u00a0\u00a0\u00a0\u00a0 📦:400\n"
        "\u00a0\u00a0\u00a0 ⏳: 12/27\n\u00a0\u00a0\u00a0\u00a0 Origin India \n"
        "💊Clotrimazole cream 15 g\n\u00a0\u00a0\u00a0\u00a0 💵: 👌\n\u00a0\u00a0\u00a0\u00a0 📦:400"),
    ("pharmacyhubethiopia", 51090): (
        "👉🏼Cotrimoxazole 100ml =75 birr\n✅️Ibuprofen 400mg (Bren) 10x10\nExp Date =11/27\nCarton Size =120pk\n"
        "👉With attachment only \nPrice=170 Birr\n\u00a0 with Moxipil 625mg of 10, Price 190 Birr\n"
        "✅\u00a0 Normal saline 1L without IV set \n\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0 📦12"),
    # addispharma: numbered entries, the price line under the name, details after the price
    ("addispharma", 23): (
        "GOAL PHARMA IMPORT\n1. Cloxacillin 50×10 capsules 500mg(Epharm)\n1067 birr\nEx.date 05/23\n"
        "20 box per carton \n2. ORS powder(Epharm)\n7.15 birr\n50 sachets per box\n"
        "4. Ferrous sulfate 150mg + Folic Acid 0.5 mg(Ssp) 10×5 \n54 birr\n150boxes per carton\n"
        "Contact: yakob 0915433967"),
    # channels that sell nothing: a training ad, a job post
    ("eahci", 645): "Ultrasound ስልጠና እድሉ እንዳያመልጥዎ❗\n🌟TItle -Basic Obstetrics Ultrasound Skill Training",
    ("tikvahpharma", 173289): "Senior pharmacist wz lucense dispensing place\nSALARY 75,000ETB\nhanna mariyame",
}


@pytest.fixture(scope="module")
def mentions(make_database, tmp_path_factory) -> dict[tuple[str, int], list[dict]]:
    dsn = make_database("mtw_extract")
    lake_dir: Path = tmp_path_factory.mktemp("lake")
    lake.write_messages(lake_dir, [lake.MessageRecord.from_dict({
        "channel_name": channel, "message_id": message_id, "message_date": "2026-01-20T08:00:00+00:00",
        "scraped_at": "2026-01-20T09:00:00+00:00", "source": "telethon", "message_text": text,
        "views": 0, "forwards": 0, "has_media": False, "raw": {"text": text},
    }) for (channel, message_id), text in POSTS.items()])
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, lake_dir)
    run_dbt(["build", "--select", "+fct_product_mentions", "--exclude-resource-type", "test",
             "--exclude-resource-type", "unit_test"], dsn)
    found: dict[tuple[str, int], list[dict]] = {post: [] for post in POSTS}
    with psycopg.connect(dsn, row_factory=psycopg.rows.dict_row) as conn:
        for row in conn.execute("select * from marts.fct_product_mentions order by channel_name, message_id,"
                                " item_index, product_name"):
            found[(row["channel_name"], row["message_id"])].append(row)
    return found


def named(rows: list[dict], *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in rows]


def test_lobelia_posts_name_their_product_and_own_price_never_the_delivery_fee(mentions):
    assert named(mentions[("shop", 1)], "product_name", "price_birr", "pack_count") == [
        ("Prenatal Gummies", 5000, 60)]
    assert named(mentions[("shop", 2)], "product_name", "price_birr", "pack_count") == [("Ashwagandha", 7500, 180)]
    # "Lilcretters" is a brand of many gummy vitamins: the post does not say which one
    assert named(mentions[("shop", 3)], "product_name", "price_birr") == [
        ("Lil Critters (unspecified product)", 5000)]
    assert named(mentions[("shop", 4)], "product_name", "price_birr", "pack_size") == [("Nido 1+", 7500, "2.2 kg")]
    # "75% PROTEIN" is not a price
    assert named(mentions[("shop", 5)], "product_name", "price_birr") == [("Ensure Liquid", 1200)]
    assert named(mentions[("shop", 6)], "product_name", "price_birr") == [("Super C with Vitamin D3 & Zinc", 6500)]
    assert mentions[("shop", 7)] == []


def test_price_forms_and_brands_with_their_types(mentions):
    assert named(mentions[("shop", 11)], "product_name", "product_category", "price_birr") == [
        ("Paracetamol", "Medicines", 2450)]
    assert sorted(named(mentions[("shop", 12)], "product_name", "price_birr")) == [
        ("Omeprazole", 1200), ("Vitamin C", 900)]
    # one price for two products is ambiguous
    assert sorted(named(mentions[("shop", 13)], "product_name", "price_birr")) == [
        ("Amoxicillin", None), ("Paracetamol", None)]
    assert named(mentions[("shop", 14)], "product_name", "price_birr") == [("CeraVe Moisturizing Cream", None)]
    assert named(mentions[("shop", 15)], "product_name", "brand", "product_type", "is_brand_only", "pack_size",
                 "price_birr") == [("Nivea Body Lotion", "Nivea", "Body Lotion", False, "400 ml", 350)]
    assert named(mentions[("shop", 16)], "product_name", "is_brand_only", "price_birr") == [
        ("Nivea (unspecified product)", True, 650)]
    assert named(mentions[("shop", 17)], "product_name", "pack_size", "price_birr") == [("Nivea Lotion", "400 ml", 850)]
    assert named(mentions[("shop", 18)], "product_name", "product_type", "strength", "pack_count", "price_birr") == [
        ("Paracetamol", "Tablets", "500 mg", 100, 150)]


def test_the_price_that_applies_now_and_never_a_phone_number_or_a_year(mentions):
    assert named(mentions[("shop", 21)], "product_name", "price_birr") == [("CeraVe Moisturizing Cream", 2500)]
    assert named(mentions[("shop", 22)], "product_name", "price_birr") == [("Nivea Body Lotion", 750)]
    assert named(mentions[("shop", 23)], "product_name", "price_birr") == [("Vitamin C", 1200)]
    assert named(mentions[("shop", 24)], "product_name", "price_birr") == [("Ensure Liquid", 1100)]
    assert named(mentions[("shop", 25)], "product_name", "price_birr") == [
        ("Nivea Body Lotion", 850), ("CeraVe Cleanser", 2400), ("Dove Soap", 120)]
    assert named(mentions[("shop", 26)], "product_name", "price_birr") == [("Cetaphil Cleanser", None)]
    assert named(mentions[("shop", 27)], "product_name", "price_birr") == [("Coconut Oil", 1250)]
    # a price line before the product belongs to its item; a year is no price
    assert named(mentions[("shop", 28)], "product_name", "price_birr") == [("Nivea Cream", 750)]
    assert named(mentions[("shop", 29)], "product_name", "price_birr") == [("Ciprofloxacin", 320)]
    assert named(mentions[("shop", 30)], "product_name", "price_birr") == [("Melatonin", None)]
    assert named(mentions[("shop", 31)], "product_name", "price_birr") == [("Dove Shampoo", 850)]


def test_a_price_list_is_read_item_by_item_each_with_its_own_price(mentions):
    got = named(mentions[("tikvahpharma", 170751)], "item_index", "product_name", "price_birr", "match_method")
    assert got == [
        (1, "Amoxicillin + Clavulanic Acid", 390, "exact"),   # CLAVΑΜΥΝ in Greek capitals from the fourth letter
        (2, "Amoxicillin + Clavulanic Acid", 258, "exact"),   # "off 14" is a discount, not a price
        (3, "Mebendazole", 23, "exact"),                      # the price line under the name
        (4, "Omeprazole", 145, "exact"),
        (5, "Azithromycin", 57, "misspelling"),               # Azitromycine
        (6, "Amlodipine", 270, "exact"),                      # Amlodipine10mg10x10
        (7, "Ferrous Sulfate + Folic Acid", 161, "exact"),    # "Ferrous with folic"
        (8, "Endotracheal Tube", 230, "exact"),               # two items on one line
        (9, "Endotracheal Tube", 225, "exact"),
        (10, "Suction Catheter", 48, "exact"),                # 💵48/58: the first size's
        (11, "Spinal Needle", Decimal("108.50"), "exact"),
        (12, "Baby Weight Scale", 3800, "exact"),
        (13, "Malaria Test", 1300, "exact"),
    ]


def test_every_mention_carries_the_text_it_was_read_from(mentions):
    by_item = {r["item_index"]: r for r in mentions[("tikvahpharma", 170751)]}
    text = POSTS[("tikvahpharma", 170751)]
    for row in by_item.values():
        assert row["evidence"] in text and row["matched_text"] in row["evidence"], row
    assert by_item[1]["matched_text"] == "CLAVΑΜΥΝ"
    assert by_item[3]["evidence"] == "✅Mebendazole 500mg(X-WORM)\n 💵23birr"
    assert by_item[5]["matched_text"] == "Azitromycine"
    assert by_item[8]["evidence"] == "✅ETT  3 💵230"
    assert by_item[9]["evidence"] == " ETT 3.5,4, & 4.5  💵225"
    assert by_item[12]["evidence"] == "✅ Baby weight scale tray type \n💵3,800"


def test_blocks_with_stock_expiry_and_price_on_request(mentions):
    assert named(mentions[("pharmacyhubethiopia", 50682)], "product_name", "dosage_form", "price_birr",
                 "is_price_on_request") == [("Diclofenac", "gel", None, True), ("Clotrimazole", "cream", None, True)]
    assert named(mentions[("pharmacyhubethiopia", 51090)], "product_name", "price_birr") == [
        ("Sulfamethoxazole + Trimethoprim", 75),   # =75 birr
        ("Ibuprofen", 170),                        # the bundle line "with Moxipil ..." goes with it
        ("Sodium Chloride", None),                 # "without IV set" offers no IV set
    ]
    assert named(mentions[("addispharma", 23)], "product_name", "price_birr", "pack_count") == [
        ("Cloxacillin", 1067, 500), ("Oral Rehydration Salts", Decimal("7.15"), 50),
        ("Ferrous Sulfate + Folic Acid", 54, 50)]


def test_courses_and_jobs_offer_no_product(mentions):
    assert mentions[("eahci", 645)] == []
    assert mentions[("tikvahpharma", 173289)] == []
