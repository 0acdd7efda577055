"""Names and codes: the real township-level units of Xixiu and generated community names.

The 25 township-level units, their kinds and names are real (NBS statistical division, 2022). Only the
codes of 南街 (001) and 华西 (006) are confirmed; the others follow the NBS ranges (sub-districts 001-099,
towns 100-199, townships 200-299) in the listed order and are assumed. ``anchor_km`` places each unit's
seat relative to the city centre (east, north, in km): a plausible synthetic layout, not a survey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SubdistrictSpec:
    """One township-level unit: code suffix, names, kind and where its seat is placed."""

    seq: str
    short: str
    pinyin: str
    kind: str  # street | town | township
    anchor_km: tuple[float, float]
    confirmed: bool = False
    ethnic: str = ""  # e.g. "Buyi and Miao" for 布依族苗族乡
    ethnic_zh: str = ""

    @property
    def name(self) -> str:
        """Chinese name with its suffix: 南街街道, 宋旗镇, 新场布依族苗族乡."""
        suffix = {"street": "街道", "town": "镇", "township": "乡"}[self.kind]
        return f"{self.short}{self.ethnic_zh}{suffix}"

    @property
    def name_en(self) -> str:
        """English name: "Nanjie Subdistrict", "Songqi Town", "Xinchang Buyi and Miao Ethnic Township"."""
        if self.kind == "street":
            return f"{self.pinyin} Subdistrict"
        if self.kind == "town":
            return f"{self.pinyin} Town"
        return f"{self.pinyin} {self.ethnic} Ethnic Township" if self.ethnic else f"{self.pinyin} Township"


_BM, _BM_ZH = "Buyi and Miao", "布依族苗族"
_MB, _MB_ZH = "Miao and Buyi", "苗族布依族"

SUBDISTRICTS: tuple[SubdistrictSpec, ...] = (
    SubdistrictSpec("001", "南街", "Nanjie", "street", (0.3, -1.1), confirmed=True),
    SubdistrictSpec("002", "东街", "Dongjie", "street", (1.2, 0.2)),
    SubdistrictSpec("003", "西街", "Xijie", "street", (-1.1, -0.1)),
    SubdistrictSpec("004", "北街", "Beijie", "street", (0.0, 1.2)),
    SubdistrictSpec("005", "东关", "Dongguan", "street", (3.2, 0.6)),
    SubdistrictSpec("006", "华西", "Huaxi", "street", (-2.6, -2.2), confirmed=True),
    SubdistrictSpec("007", "西航", "Xihang", "street", (-2.5, 2.5)),
    SubdistrictSpec("008", "新安", "Xin'an", "street", (1.8, -3.2)),
    SubdistrictSpec("100", "宋旗", "Songqi", "town", (7.0, -4.4)),
    SubdistrictSpec("101", "幺铺", "Yaopu", "town", (12.0, 13.3)),
    SubdistrictSpec("102", "宁谷", "Ninggu", "town", (1.0, -11.1)),
    SubdistrictSpec("103", "龙宫", "Longgong", "town", (-6.0, -14.4)),
    SubdistrictSpec("104", "双堡", "Shuangbao", "town", (19.0, -8.9)),
    SubdistrictSpec("105", "大西桥", "Daxiqiao", "town", (19.0, 5.5)),
    SubdistrictSpec("106", "七眼桥", "Qiyanqiao", "town", (10.0, 3.3)),
    SubdistrictSpec("107", "蔡官", "Caiguan", "town", (-9.0, 0.0)),
    SubdistrictSpec("108", "轿子山", "Jiaozishan", "town", (11.0, -22.2)),
    SubdistrictSpec("109", "旧州", "Jiuzhou", "town", (21.0, -25.5)),
    SubdistrictSpec("200", "新场", "Xinchang", "township", (28.0, -16.6), ethnic=_BM, ethnic_zh=_BM_ZH),
    SubdistrictSpec("201", "岩腊", "Yanla", "township", (22.0, -30.0), ethnic=_MB, ethnic_zh=_MB_ZH),
    SubdistrictSpec("202", "鸡场", "Jichang", "township", (3.0, -20.0), ethnic=_BM, ethnic_zh=_BM_ZH),
    SubdistrictSpec("203", "杨武", "Yangwu", "township", (31.0, -3.3), ethnic=_BM, ethnic_zh=_BM_ZH),
    SubdistrictSpec("204", "东屯", "Dongtun", "township", (1.0, 14.4)),
    SubdistrictSpec("205", "黄腊", "Huangla", "township", (-13.0, -6.6), ethnic=_BM, ethnic_zh=_BM_ZH),
    SubdistrictSpec("206", "刘官", "Liuguan", "township", (26.0, 5.5)),
)

# The four small sub-districts of the old city centre (they get small areas and high-rise blocks).
CENTRAL_STREETS = frozenset({"001", "002", "003", "004"})

# Units named in the department's 2025 work summary, as name stems (Chinese, pinyin), and the
# sub-district each is placed in. 南郊 and 利达 are in 华西 as in the summary; the homes of the others
# are not known and are chosen for the demo.
NANJIAO = ("南郊", "Nanjiao")
LIDA = ("利达", "Lida")
MACAOJING = ("马槽井", "Macaojing")
CAIHONG = ("彩虹", "Caihong")
BASHI = ("把士", "Bashi")
STORY_HOMES: dict[tuple[str, str], str] = {
    NANJIAO: "006",
    LIDA: "006",
    MACAOJING: "001",
    CAIHONG: "005",
    BASHI: "100",
}
MACAOJING_STATION = "暖新护航·驿站有我"

_URBAN_FIRST = (
    "兴xing 华hua 安an 和he 康kang 泰tai 瑞rui 锦jin 文wen 明ming 阳yang 春chun 民min 乐le 福fu 盛sheng "
    "宏hong 德de 顺shun 永yong 丰feng 清qing 贵gui 塔ta 新xin 龙long 凤feng 金jin 黔qian 滨bin 育yu 博bo"
)
_URBAN_SECOND = (
    "华hua 安an 平ping 康kang 宁ning 兴xing 和he 苑yuan 园yuan 城cheng 山shan 湖hu 阳yang 光guang 荣rong "
    "泰tai 丰feng 盛sheng 祥xiang 福fu 林lin 桥qiao 关guan 坪ping 门men 街jie 源yuan 景jing"
)
_VILLAGE_FIRST = (
    "龙long 凤feng 青qing 石shi 马ma 河he 松song 桃tao 柳liu 新xin 白bai 红hong 黄huang 高gao 大da "
    "小xiao 上shang 下xia 中zhong 东dong 西xi 南nan 北bei 三san 五wu 杨yang 李li 王wang 张zhang 陈chen "
    "田tian 水shui 云yun 花hua 竹zhu 茶cha 羊yang 牛niu 落luo 岩yan 坡po 猫mao 凉liang 狗gou 碓dui 普pu"
)
_VILLAGE_SECOND = (
    "寨zhai 坝ba 关guan 屯tun 堡bao 冲chong 坡po 哨shao 营ying 田tian 湾wan 塘tang 沟gou 铺pu 庄zhuang "
    "洞dong 井jing 桥qiao 岩yan 林lin 山shan 场chang 坪ping 旗qi 院yuan 厂chang"
)


def _syllables(table: str) -> list[tuple[str, str]]:
    return [(item[0], item[1:]) for item in table.split()]


def join_pinyin(*syllables: str) -> str:
    """Join pinyin syllables into one capitalised word, with an apostrophe before a, o or e: Xin'an."""
    word = syllables[0]
    for syllable in syllables[1:]:
        word += ("'" if syllable[0] in "aoe" else "") + syllable
    return word[:1].upper() + word[1:]


class CommunityNamer:
    """Draws unique community (社区) and village (村) names for one district, deterministically."""

    def __init__(self, rng: np.random.Generator, reserved: set[str]) -> None:
        self._rng = rng
        self._used = set(reserved)
        self._pools = {
            "urban": self._pool(_URBAN_FIRST, _URBAN_SECOND),
            "village": self._pool(_VILLAGE_FIRST, _VILLAGE_SECOND),
        }

    def _pool(self, first: str, second: str) -> list[tuple[str, str]]:
        pairs = [(a + b, join_pinyin(pa, pb)) for a, pa in _syllables(first) for b, pb in _syllables(second) if a != b]
        order = self._rng.permutation(len(pairs))
        return [pairs[i] for i in order]

    def draw(self, kind: str) -> tuple[str, str]:
        """Next unused stem (Chinese, pinyin) of the kind 'urban' or 'village'."""
        pool = self._pools[kind]
        while pool:
            zh, en = pool.pop()
            if zh not in self._used:
                self._used.add(zh)
                return zh, en
        raise RuntimeError(f"ran out of {kind} community names")


def community_name(stem: str, stem_en: str, kind: str) -> tuple[str, str]:
    """Full community name from a stem: 南郊 -> 南郊社区 / Nanjiao Community; 把士 -> 把士村 / Bashi Village."""
    if kind == "urban":
        return f"{stem}社区", f"{stem_en} Community"
    return f"{stem}村", f"{stem_en} Village"
