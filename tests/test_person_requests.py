"""Asking for a person in one's own words, in every launch language: word classes that combine
(someone + a way of being reached), not phrases. Written fresh for this test."""
import pytest

from campaign.person_requests import asks_for_person

ASKS = {
    "en": ["is there an actual person I can phone? I'm hard of hearing with texts", "can one of you give me a ring tomorrow",
           "i'd rather speak with somebody from the campaign first"],
    "es": ["¿me puede llamar alguien de la campaña?", "prefiero conversar con una persona, no con un robot",
           "alguno de ustedes me puede marcar en la tarde?"],
    "fr": ["est-ce qu'un responsable pourrait me rappeler ce soir", "je préfère parler à quelqu'un avant de m'inscrire",
           "une vraie personne peut me téléphoner ?"],
    "zh": ["可以请工作人员给我打个电话吗", "我想跟真人聊聊", "有冇人可以打俾我"],
    "bn": ["আপনাদের কেউ আমাকে একটু ফোন দিতে পারবেন?", "কারো সাথে সরাসরি কথা বলতে চাই", "keu ekta call dite parben?"],
    "ar": ["في حدا منكم بيقدر يتصل فيني؟", "أريد أن أتكلم مع شخص من الحملة", "ممكن موظف يكلمني بكرة"],
    "ur": ["کیا آپ میں سے کوئی مجھے کال کر سکتا ہے؟", "میں کسی انسان سے بات کرنا چاہتی ہوں", "koi banda mujhe phone kar le please"],
    "hi": ["क्या आप में से कोई मुझसे फ़ोन पर बात कर सकता है", "मुझे किसी व्यक्ति से बात करनी है", "kisi se baat ho sakti hai kya phone pe"],
}
NOT_ASKING = {
    "en": ["someone from work told me about this", "call me Sam", "no need to call anyone, texting is fine", "are you a bot?"],
    "es": ["me llamo Rosa y alguien me mandó el link", "no hace falta que nadie me llame, por mensaje está bien", "sábado en la mañana"],
    "fr": ["je m'appelle Awa, quelqu'un m'a transféré le message", "pas besoin de m'appeler", "samedi matin"],
    "zh": ["有人转给我这个号码", "不用打电话，发信息就行", "星期六上午"],
    "bn": ["একজন বন্ধু আমাকে লিংক পাঠিয়েছে", "ফোন করবেন না, মেসেজ দিলেই হবে", "শনিবার সকালে"],
    "ar": ["واحد صاحبي بعتلي الرابط", "ما في داعي حدا يتصل، الرسائل أحسن", "السبت الصبح"],
    "ur": ["کسی دوست نے یہ نمبر دیا", "call mat karo, message theek hai", "ہفتے کو صبح"],
    "hi": ["किसी दोस्त ने ये नंबर भेजा", "फ़ोन मत करना, मैसेज ठीक है", "शनिवार सुबह"],
}


@pytest.mark.parametrize("language, text", [(lang, t) for lang, texts in ASKS.items() for t in texts])
def test_a_request_for_a_person_is_heard(language, text):
    assert asks_for_person(text)


@pytest.mark.parametrize("language, text", [(lang, t) for lang, texts in NOT_ASKING.items() for t in texts])
def test_a_look_alike_is_not_a_request(language, text):
    assert not asks_for_person(text)


# Sensitive subjects open an urgent handoff the same way (campaign/lexicon/sensitive.yml); these
# topics were added with the person requests: disability and access, health, safety, and
# immigration said as papers or a case.
SENSITIVE = {
    "en": ("my husband uses a wheelchair, can he still help?", "disability"),
    "es": ("todavía no tengo papeles, ¿eso es un problema?", "immigration"),
    "fr": ("je suis enceinte de six mois, est-ce que je peux faire du porte-à-porte ?", "health"),
    "zh": ("我的身份问题还没解决，参加会不会有影响", "immigration"),
    "bn": ("আমার গ্রিন কার্ড এখনো হয়নি", "immigration"),
    "ar": ("ابني بيستخدم كرسي متحرك", "disability"),
    "ur": ("میرا امیگریشن کیس ابھی چل رہا ہے", "immigration"),
    "hi": ("मैं व्हीलचेयर पर हूँ, क्या मैं मदद कर सकती हूँ", "disability"),
}


@pytest.mark.parametrize("language", SENSITIVE)
def test_a_sensitive_subject_is_named_in_every_language(language):
    from campaign.handoffs import sensitive_topic

    text, topic = SENSITIVE[language]
    assert sensitive_topic(text) == topic
