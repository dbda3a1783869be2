"""Phone numbers in E.164, the one form identities are stored in."""
import phonenumbers


def e164(raw: str | None, region: str = "US") -> str | None:
    """"+17185550100" for any way of writing a valid number; None when it is not one."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_language(phone: str | None) -> str | None:
    """A hint from the country code: +52 suggests Spanish, +880 Bengali, +92 Urdu."""
    if not phone:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None
    return COUNTRY_LANGUAGE.get(region)


# Where a country code says more than "US": the main launch language spoken there.
COUNTRY_LANGUAGE = {
    "MX": "es", "DO": "es", "CO": "es", "EC": "es", "PE": "es", "SV": "es", "GT": "es", "HN": "es", "ES": "es",
    "PR": "es", "VE": "es", "AR": "es", "CL": "es", "CU": "es", "NI": "es", "PA": "es", "CR": "es", "BO": "es",
    "FR": "fr", "HT": "fr", "SN": "fr", "CI": "fr", "ML": "fr", "GN": "fr", "BF": "fr", "CM": "fr",
    "CN": "zh", "TW": "zh", "HK": "zh", "BD": "bn", "PK": "ur", "IN": "hi",
    "EG": "ar", "YE": "ar", "MA": "ar", "DZ": "ar", "SA": "ar", "JO": "ar", "LB": "ar", "SY": "ar", "PS": "ar", "IQ": "ar",
}
