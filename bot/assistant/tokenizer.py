"""A tokenizer for one model over eight languages (runs inside Rasa, in .venv-rasa).

Rasa's WhitespaceTokenizer mangles Chinese, which has no spaces between words: measured on our
data, "我叫 李明 ，住在法拉盛" came out as one token (spaces and all) and "中文 please" lost
"中文" entirely, so Chinese names could not be annotated and language requests were lost. Here
each Han character is a token of its own (as in multilingual BERT); everything else is split on
whitespace with punctuation trimmed from the edges. Character n-grams (CountVectorsFeaturizer,
char_wb) then see Chinese words as runs of character tokens.
"""
import re
import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_PIECES = re.compile(rf"[{_HAN}]|[^\s{_HAN}]+")


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent_tokenization_flag": False, "intent_split_symbol": "_", "token_pattern": None,
                "prefix_separator_symbol": None}

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "MultilingualTokenizer":
        return cls(config)

    @staticmethod
    def supported_languages():
        return None

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        tokens = []
        for match in _PIECES.finditer(text):
            word, start = match.group(), match.start()
            while word and _is_punct(word[0]):
                word, start = word[1:], start + 1
            while word and _is_punct(word[-1]):
                word = word[:-1]
            if word:
                tokens.append(Token(word, start))
        if not tokens and text.strip():
            tokens.append(Token(text.strip(), text.index(text.strip())))  # a message of punctuation only
        return self._apply_token_pattern(tokens)
