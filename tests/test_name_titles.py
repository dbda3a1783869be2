"""A form of address is not part of a name, in every launch language (actions/name_words.yml):
"C'est Mme Awa Koné" stored "Mme Awa Koné" before (blind round 1). Run in Rasa's own Python,
where the action server runs."""
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa/bin/python"
pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not set up (make setup)")

# (what the person wrote, answering "what's your name?") -> the name
CASES = {
    "C'est Mme Fatou Diallo": "Fatou Diallo",
    "Sra. Carmen Ortiz": "Carmen Ortiz",
    "Dr. Anil Mehta": "Anil Mehta",
    "我是陈先生": "陈",
    "জনাব রফিক উদ্দিন": "রফিক উদ্দিন",
    "السيدة ليلى منصور": "ليلى منصور",
    "میرا نام عمران صاحب ہے": "عمران",
    "मेरा नाम सुरेश जी है": "सुरेश",
    "Miss": "Miss",  # a title alone is all there is: kept, as said
    "Don Ramiro": "Ramiro",
}


def test_forms_of_address_are_dropped_from_names():
    program = ("import json, sys\nfrom actions.onboarding import clean_name, introduced_name\n"
               "cases = json.load(sys.stdin)\n"
               "print(json.dumps({t: introduced_name(t, True) or clean_name(t) for t in cases}))")
    done = subprocess.run([str(RASA_PYTHON), "-c", program], input=json.dumps(list(CASES)), capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == CASES
