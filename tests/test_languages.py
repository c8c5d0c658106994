"""Language codes: every input form, the tables' coverage, and unknown codes."""

from __future__ import annotations

import pytest

from xproj.schemas.errors import LanguageCodeError
from xproj.schemas.languages import (
    ALIASES,
    ISO639_1,
    ISO639_2B,
    ISO639_3_ONLY,
    is_known_lang,
    language_name,
    language_script,
    normalize_lang,
    to_iso639_3,
)

CASES = [
    # (input, internal code, ISO 639-3)
    ("en", "en", "eng"),
    ("EN", "en", "eng"),
    ("eng", "en", "eng"),
    ("fra", "fr", "fra"),
    ("fre", "fr", "fra"),
    ("ger", "de", "deu"),
    ("chi", "zh", "zho"),
    ("cze", "cs", "ces"),
    ("pt-BR", "pt", "por"),
    ("pt_br", "pt", "por"),
    ("en-US-x-private", "en", "eng"),
    ("ca-ES-valencia", "ca", "cat"),
    ("zh-Hant-TW", "zh-Hant", "zho"),
    ("zh-Hans-CN", "zh", "zho"),
    ("zh-TW", "zh-Hant", "zho"),
    ("zh-HK", "zh-Hant", "zho"),
    ("zh-CN", "zh", "zho"),
    ("zh-yue", "yue", "yue"),
    ("sr-Latn", "sr-Latn", "srp"),
    ("sr-Cyrl", "sr", "srp"),
    ("sr-latn-rs", "sr-Latn", "srp"),
    ("pa-Arab", "pa-Arab", "pan"),
    ("pa-PK", "pa-Arab", "pan"),
    ("uz-Cyrl", "uz-Cyrl", "uzb"),
    ("ko-Kore", "ko", "kor"),
    ("ja-Jpan-JP", "ja", "jpn"),
    # NLLB-200 codes
    ("eng_Latn", "en", "eng"),
    ("zho_Hans", "zh", "zho"),
    ("zho_Hant", "zh-Hant", "zho"),
    ("yue_Hant", "yue", "yue"),
    ("kor_Hang", "ko", "kor"),
    ("arb_Arab", "ar", "ara"),
    ("arz_Arab", "arz", "arz"),
    ("pes_Arab", "fa", "fas"),
    ("prs_Arab", "prs", "prs"),
    ("zsm_Latn", "ms", "msa"),
    ("swh_Latn", "sw", "swa"),
    ("npi_Deva", "ne", "nep"),
    ("khk_Cyrl", "mn", "mon"),
    ("srp_Cyrl", "sr", "srp"),
    ("tzm_Tfng", "tzm-Tfng", "tzm"),
    ("ckb_Arab", "ckb", "ckb"),
    ("kmr_Latn", "ku", "kur"),
    ("tgl_Latn", "tl", "tgl"),
    ("ace_Arab", "ace-Arab", "ace"),
    ("taq_Tfng", "taq-Tfng", "taq"),
    # 639-3 only
    ("ceb", "ceb", "ceb"),
    ("ilo", "ilo", "ilo"),
    ("war", "war", "war"),
    ("ast", "ast", "ast"),
    ("fil", "fil", "fil"),  # Filipino is not Tagalog
    ("cmn", "zh", "zho"),
    # retired codes
    ("iw", "he", "heb"),
    ("in", "id", "ind"),
    ("ji", "yi", "yid"),
    ("mo", "ro", "ron"),
    ("sh", "sh", "hbs"),
    ("hbs", "sh", "hbs"),
]


@pytest.mark.parametrize(("code", "internal", "iso3"), CASES)
def test_languages_normalize_lang(code, internal, iso3):
    assert normalize_lang(code) == internal
    assert to_iso639_3(code) == iso3
    assert normalize_lang(internal) == internal  # idempotent
    assert is_known_lang(code)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("zh-TW", "Chinese (Traditional)"),
        ("sr_Latn", "Serbian (Latin)"),
        ("fil", "Filipino"),
        ("tl", "Tagalog"),
        ("ckb", "Central Kurdish"),
        ("de", "German"),
    ],
)
def test_languages_language_name(code, name):
    assert language_name(code) == name


@pytest.mark.parametrize(
    ("code", "script"),
    [("ja", "Jpan"), ("zh", "Hans"), ("zh-HK", "Hant"), ("sr", "Cyrl"), ("sr-Latn", "Latn"),
     ("th", "Thai"), ("hi", "Deva"), ("yue", "Hant")],
)  # fmt: skip
def test_languages_language_script(code, script):
    assert language_script(code) == script


UNKNOWN = [
    # (code, a close match that must be listed, or None)
    ("frn", "fr (French)"),
    ("englsh", "en (English)"),
    ("spanish", "es (Spanish)"),
    ("xx", None),
    ("", None),
    ("zz-Latn", None),
    ("en-?", "en (English)"),
    ("zh-abc", "zh (Chinese)"),
]


@pytest.mark.parametrize(("code", "close"), UNKNOWN)
def test_languages_unknown_code(code, close):
    with pytest.raises(LanguageCodeError) as info:
        normalize_lang(code)
    msg = str(info.value)
    assert info.value.code == "XP201"
    assert repr(code) in msg
    assert "Fix:" in msg
    if close:
        assert close in msg
    assert not is_known_lang(code)


@pytest.mark.parametrize("bad", [None, 3])
def test_languages_non_string(bad):
    with pytest.raises(LanguageCodeError):
        normalize_lang(bad)  # type: ignore[arg-type]


def test_languages_tables_cover_iso639_1():
    # 184 codes of the ISO 639-3 tables plus the withdrawn 'bh'
    assert len(ISO639_1) == 185
    iso3 = [v[0] for v in ISO639_1.values()]
    assert len(set(iso3)) == len(iso3)
    assert all(len(c) == 2 and c.islower() for c in ISO639_1)
    assert all(len(c) == 3 for c in iso3)
    assert not set(ISO639_3_ONLY) & set(iso3)
    assert len(ISO639_2B) == 20
    for code in ISO639_1:
        assert normalize_lang(code) == code
        assert normalize_lang(ISO639_1[code][0]) == code
    for alias, target in ALIASES.items():
        assert normalize_lang(alias) == target


# NLLB-200 language codes (FLORES-200), plus sat_Beng used by some NLLB tokenizers.
NLLB = """ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab
arb_Arab ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl
bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn
bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn dik_Latn
dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn pes_Arab fij_Latn
fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn
hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn
ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor knc_Arab
knc_Latn kaz_Cyrl kbp_Latn kea_Latn khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kon_Latn kor_Hang
kmr_Latn lao_Laoo lvs_Latn lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn
lug_Latn luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl plt_Latn mlt_Latn
mni_Beng khk_Cyrl mos_Latn mri_Latn zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn
nus_Latn nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru pap_Latn pol_Latn por_Latn prs_Arab
pbt_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Olck sat_Beng scn_Latn shn_Mymr
sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn als_Latn srd_Latn
srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn
tha_Thai tir_Ethi taq_Latn taq_Tfng tpi_Latn tsn_Latn tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn
tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn
ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zul_Latn""".split()

M2M100 = """af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu
ha he hi hr ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne
nl no oc or pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo
zh zu""".split()


def test_languages_nllb_and_m2m_codes_all_known():
    internal = {code: normalize_lang(code) for code in NLLB}
    # distinct NLLB codes (language + script) stay distinct
    by_lang = {}
    for code, norm in internal.items():
        by_lang.setdefault(norm, []).append(code)
    assert [codes for codes in by_lang.values() if len(codes) > 1] == []
    assert all(normalize_lang(c) == c for c in M2M100)


def test_languages_script_kept_only_when_not_default():
    assert normalize_lang("hin_Deva") == "hi"
    assert normalize_lang("kas_Deva") == "ks-Deva"
    assert normalize_lang("kas_Arab") == "ks"
    assert normalize_lang("sat_Beng") == "sat-Beng"


def test_languages_language_set_unknown_name_lists_the_sets():
    from xproj.schemas.languages import language_set

    with pytest.raises(KeyError, match=r"no language set 'nllb200'.*nllb, m2m100"):
        language_set("nllb200")
