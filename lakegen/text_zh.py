"""Chinese review titles and texts, from combinatorial templates as text.py's English.

The wording follows the star rating (praise for 4-5 stars, complaints for 1-2, mixed for 3)
and names the product (its Chinese noun) and what buyers of its category talk about (音质
for headphones, 尺码 and 面料 for clothes, 口味 for food ...), with the traps of real text:
negated complaints ("一点都不卡" is praise), negated praise ("没有想象中那么好"), mixed
sentences ("音质很好，就是续航太短了"), intensifiers, varied length. About one review in
eight is a few characters ("好评！", "垃圾😡"), one in fifteen mixes in English ("质量很好，
Highly recommended."), and some are typed with ASCII punctuation.
"""

from __future__ import annotations

import random

from .catalog import TOPS, Product
from .text import CLOSERS as ENGLISH_CLOSERS
from .text import Aspect, parse_aspects

# The Chinese noun a buyer uses for each leaf category.
NOUNS: dict[str, str] = {
    "Headphones": "耳机", "Earbuds": "蓝牙耳机", "Bluetooth Speakers": "蓝牙音箱",
    "Soundbars": "回音壁", "Phone Cases": "手机壳", "Chargers": "充电器",
    "Power Banks": "充电宝", "Laptops": "笔记本电脑", "Monitors": "显示器", "Keyboards": "键盘",
    "Mice": "鼠标", "Smart Plugs": "智能插座", "Security Cameras": "摄像头",
    "Smart Bulbs": "智能灯泡",
    "Dresses": "连衣裙", "Jeans": "牛仔裤", "Jackets": "夹克", "Knitwear": "毛衣",
    "Shirts": "衬衫", "Chinos": "休闲裤", "Coats": "大衣", "Sneakers": "运动鞋",
    "Running Shoes": "跑鞋", "Boots": "靴子", "Bags": "包包", "Scarves": "围巾",
    "Sunglasses": "墨镜",
    "Coffee Machines": "咖啡机", "Blenders": "破壁机", "Toasters": "烤面包机",
    "Kettles": "电水壶", "Frying Pans": "平底锅", "Knives": "菜刀", "Pots": "汤锅",
    "Duvets": "被子", "Pillows": "枕头", "Bed Linen": "四件套", "Lamps": "台灯",
    "Candles": "香薰蜡烛", "Vases": "花瓶",
    "Moisturisers": "面霜", "Serums": "精华", "Sunscreen": "防晒霜", "Shampoo": "洗发水",
    "Hair Dryers": "吹风机", "Straighteners": "直发夹", "Perfume": "香水",
    "Aftershave": "须后水",
    "Yoga Mats": "瑜伽垫", "Dumbbells": "哑铃", "Resistance Bands": "弹力带",
    "Helmets": "头盔", "Bike Lights": "车灯", "Bike Locks": "车锁", "Tents": "帐篷",
    "Sleeping Bags": "睡袋", "Backpacks": "背包",
    "Coffee Beans": "咖啡豆", "Tea": "茶叶", "Coffee Capsules": "咖啡胶囊",
    "Chocolate": "巧克力", "Nuts": "坚果", "Crisps": "薯片", "Olive Oil": "橄榄油",
    "Pasta": "意面", "Spices": "调料",
    "Strategy Games": "桌游", "Party Games": "聚会桌游", "Puzzles": "拼图",
    "Brick Sets": "积木", "Model Kits": "模型", "Scooters": "滑板车", "Kites": "风筝",
    "Water Toys": "水枪",
    "Crime": "推理小说", "Fantasy": "奇幻小说", "Romance": "言情小说", "Cookbooks": "菜谱",
    "Biographies": "传记", "Self-Help": "这本书", "Vinyl": "黑胶唱片", "CDs": "专辑",
}  # fmt: skip

# Adjectives ('+', '-') follow the noun after an intensifier or a negation ("音质非常清晰",
# "音质一点都不闷", "音质不太清晰"), so none starts with 不; claims ('++', '--') follow the
# noun as they are ("物流第二天就到了").
GENERIC = parse_aspects("""
物流
    + 快, 迅速, 给力, 神速
    - 慢, 拖拉, 磨蹭
    ++ 第二天就到了; 隔天就送到了; 比预计的早到了两天
    -- 等了快三个星期; 晚了一个礼拜才到; 中途还丢件了
价格
    + 实惠, 合理, 便宜, 划算
    - 贵, 离谱, 高
    ++ 比实体店便宜不少; 赶上活动很划算; 在这个价位没得挑
    -- 完全不值这个价; 刚买完就降价了; 跟质量完全不匹配
包装
    + 严实, 精美, 结实, 用心
    - 简陋, 敷衍, 随便
    ++ 里三层外三层; 很用心，送人也有面子; 一点磕碰都没有
    -- 到手的时候箱子都压扁了; 湿透了; 直接破了个大洞
客服
    + 耐心, 热情, 专业, 贴心
    - 敷衍, 冷漠, 傲慢
    ++ 回复很及时; 问什么都耐心解答; 二话不说就给换了
    -- 一直不回消息; 互相踢皮球; 拒绝退换
性价比
    + 高, 好, 棒
    - 低, 差
    ++ 秒杀大牌; 超出预期; 在同价位里数一数二
    -- 实在太低了; 真的很差; 还不如杂牌
""")

TOP_ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "Electronics": parse_aspects("""
做工
    + 精致, 扎实, 细腻, 讲究
    - 粗糙, 廉价, 毛糙, 差
    ++ 拿在手里很有质感; 比我之前那个好多了; 摔了几次都没事
    -- 感觉随时会坏; 一捏就咯吱响; 用了一周就裂了
设置
    + 简单, 方便, 快捷, 省心
    - 麻烦, 复杂, 繁琐, 费劲
    ++ 五分钟就搞定了; 插上就能用; 说明书都不用看
    -- 折腾了一个多小时; 重启了三次才成功; 老是中途失败
外观
    + 漂亮, 好看, 简约, 高级
    - 难看, 笨重, 过时, 土
    ++ 放在桌上很好看; 小巧精致; 设计得很用心
    -- 太笨重了不方便带; 特别容易沾指纹; 实物看着很廉价
"""),
    "Fashion": parse_aspects("""
尺码
    + 标准, 合适, 准
    - 偏小, 偏大, 奇怪
    ++ 按平时的码买刚刚好; 很合身; 版型很修身
    -- 至少小了一个码; 肩膀那里太紧了; 和尺码表差太多
面料
    + 柔软, 舒服, 透气, 厚实
    - 粗糙, 扎人, 廉价, 薄
    ++ 穿着很亲肤; 洗了几次也没变形; 手感很好
    -- 洗一次就起球了; 洗完缩水严重; 薄得像纸一样
颜色
    + 正, 好看, 鲜艳, 高级
    - 暗, 难看, 土, 奇怪
    ++ 和图片一模一样; 很百搭; 实物比图片还好看
    -- 洗一次就褪色了; 比图片暗很多; 把别的衣服都染色了
走线
    + 整齐, 精细, 结实, 讲究
    - 粗糙, 马虎, 凌乱, 歪
    ++ 一个线头都没有; 做得很精细; 看得出很用心
    -- 穿了一周就开线了; 到处都是线头; 第二次穿就裂开了
舒适度
    + 高, 好, 棒
    - 差, 低
    ++ 不用磨合; 穿一整天都不累; 穿上像没穿一样
    -- 第一天就磨脚; 穿一个小时就难受; 完全谈不上
"""),
    "Home & Kitchen": parse_aspects("""
外观
    + 漂亮, 好看, 大气, 时尚
    - 难看, 过时, 笨重, 廉价
    ++ 放在家里很好看; 来客人都夸; 放哪里都搭
    -- 实物看着很廉价; 和家里风格完全不搭; 比想象中大很多
质量
    + 好, 扎实, 过硬, 可靠
    - 差, 堪忧, 糟糕
    ++ 感觉能用很多年; 放着纹丝不动; 天天用也没问题
    -- 一直晃来晃去; 第一次用就变形了; 感觉随时会坏
"""),
    "Beauty & Care": parse_aspects("""
味道
    + 好闻, 清新, 淡雅, 高级
    - 刺鼻, 难闻, 浓, 奇怪
    ++ 留香一整天; 经常被人问用的什么; 淡淡的很清新
    -- 一个小时就没味了; 闻着头疼; 像消毒水一样
质地
    + 清爽, 细腻, 水润, 顺滑
    - 油腻, 黏, 厚重, 干
    ++ 很快就吸收了; 用着很舒服; 很好推开
    -- 在脸上糊了一层油; 半天都吸收不了; 一搓就起泥
效果
    + 明显, 好, 惊艳
    - 差, 弱, 糟糕
    ++ 用完皮肤很嫩; 一周就看到变化了; 泛红都消了
    -- 用了几天就爆痘了; 用了跟没用一样; 越用越干
瓶子
    + 好看, 方便, 精致, 实用
    - 难用, 廉价, 笨重
    ++ 放在梳妆台上很好看; 方便带出门; 按压泵很好用
    -- 在包里漏了一地; 按压泵老是卡住; 最后一点根本倒不出来
"""),
    "Sports & Outdoors": parse_aspects("""
耐用性
    + 好, 强, 出色
    - 差, 堪忧, 糟糕
    ++ 高强度用了几个月还跟新的一样; 杠杠的; 比想象的结实
    -- 用了几周就坏了; 第一次出门就破了; 还不如便宜的牌子
防滑
    + 好, 稳, 出色
    - 差, 糟糕, 弱
    ++ 出汗了也不滑; 抓地力很强; 踩上去很稳
    -- 一出汗就打滑; 用一个月就不行了; 根本抓不住
重量
    + 轻, 轻便, 合适
    - 重, 沉, 笨重, 压手
    ++ 背着一点都不累; 几乎感觉不到; 长途出行很方便
    -- 背着很累; 比标的重多了; 拿一会儿手就酸
防水
    + 好, 可靠, 出色, 给力
    - 差, 糟糕, 鸡肋
    ++ 大雨里也没湿; 暴雨天也扛住了; 跟宣传的一样
    -- 小雨就渗水了; 第一次下雨就漏了; 简直是个笑话
"""),
    "Grocery": parse_aspects("""
口味
    + 好, 香, 醇厚, 正宗
    - 差, 淡, 苦, 怪
    ++ 比超市买的好吃多了; 层次很丰富; 回味很足
    -- 有股怪味; 吃完嘴里发苦; 没什么特别的
新鲜度
    + 高, 好, 棒
    - 差, 低
    ++ 生产日期很新; 放了几周还很新鲜; 到手状态完美
    -- 快过期了才发过来; 到手就已经坏了; 跟描述完全不一样
香气
    + 浓郁, 好闻, 香, 迷人
    - 淡, 寡淡, 奇怪, 差
    ++ 满屋子都是香味; 一打开袋子就很香; 特别浓郁
    -- 几乎闻不到; 放一天就没了; 闻着有点怪
分量
    + 足, 大, 实在, 多
    - 少, 小, 抠门, 可怜
    ++ 够一家人吃一周; 比想象的多; 非常实在
    -- 少得可怜; 大半袋都是空气; 只有图片上的一半
"""),
    "Toys & Games": parse_aspects("""
趣味性
    + 强, 高, 好, 足
    - 差, 低, 弱
    ++ 孩子能玩好几个小时; 全家玩得很开心; 百玩不厌
    -- 玩一天就腻了; 十分钟大家就没兴趣了; 一点意思都没有
说明书
    + 清楚, 简单, 详细, 易懂
    - 混乱, 难懂, 简陋, 模糊
    ++ 一看就懂; 拼起来很快; 图解很清楚
    -- 根本看不懂; 漏了一半步骤; 少了好几页
零件
    + 结实, 精细, 齐全, 牢固
    - 廉价, 脆, 粗糙, 松
    ++ 严丝合缝; 做得很精细; 熊孩子都摔不坏
    -- 少了好几个; 第一天就断了; 根本拼不上
可玩性
    + 高, 强, 好, 棒
    - 低, 差, 弱
    ++ 每周都会拿出来玩; 越玩越有意思; 玩多少遍都不腻
    -- 玩一次就知道套路了; 几乎为零; 很有限
"""),
    "Books & Media": parse_aspects("""
情节
    + 精彩, 紧凑, 新颖, 动人
    - 拖沓, 老套, 无聊, 混乱
    ++ 让我一口气看到半夜; 从第一页就吸引人; 看完好几天都忘不了
    -- 中间太拖了; 不知道想表达什么; 漏洞百出
文笔
    + 优美, 流畅, 细腻, 幽默
    - 生硬, 平淡, 啰嗦, 粗糙
    ++ 读起来很舒服; 金句很多; 很有画面感
    -- 读着很费劲; 像是赶工写出来的; 需要好好打磨一下
人物
    + 鲜活, 立体, 真实, 可爱
    - 扁平, 单薄, 脸谱化, 无聊
    ++ 像真人一样; 让人印象深刻; 成长写得很好
    -- 一点都不真实; 说话都一个样; 总做蠢事
印刷
    + 清晰, 精美, 好, 精致
    - 模糊, 差, 粗糙, 廉价
    ++ 纸张很好; 送人很有面子; 比想象的好
    -- 有好几页印歪了; 纸张又薄又廉价; 有一股刺鼻的油墨味
"""),
}

_BATTERY = parse_aspects("""
续航
    + 长, 给力, 好, 持久
    - 短, 差, 拉胯
    ++ 用一整天都没问题; 一周充一次电就够; 充电也很快
    -- 两个小时就没电了; 掉电太快; 一上午都撑不住
""")

MID_ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "Audio": _BATTERY
    + parse_aspects("""
音质
    + 清晰, 饱满, 通透, 好
    - 差, 闷, 刺耳, 糊
    ++ 低音很足; 开大音量也不失真; 比两倍价格的还好
    -- 音量一大就破音; 完全没有低音; 一直有电流声
连接
    + 稳定, 快, 顺畅, 可靠
    - 差, 卡, 慢, 烂
    ++ 从来没断过; 秒连手机; 整个屋子都能连上
    -- 老是断连; 连不上我的手机; 声音和画面不同步
降噪
    + 强, 好, 出色, 明显
    - 弱, 差, 鸡肋
    ++ 让地铁上也很安静; 坐飞机太好用了; 一开办公室瞬间安静了
    -- 开了跟没开一样; 让耳朵有压迫感; 挡不住人声
"""),
    "Phones & Accessories": _BATTERY,
    "Computers": _BATTERY
    + parse_aspects("""
屏幕
    + 清晰, 亮, 细腻, 好
    - 暗, 模糊, 差, 反光
    ++ 修图很合适; 看久了眼睛也不累; 户外也看得清
    -- 有一个坏点; 低亮度会闪; 边角漏光
运行速度
    + 快, 流畅, 给力, 好
    - 慢, 卡, 差, 拖沓
    ++ 干什么都不卡; 几秒就开机了; 从来不卡顿
    -- 开几个网页就卡死; 开机要好久; 每天都死机
"""),
    "Shoes": parse_aspects("""
鞋底
    + 软, 舒服, 有弹性, 防滑
    - 硬, 滑, 薄, 差
    ++ 走一天都不累; 下雨天也不滑; 跑步很轻松
    -- 一个月就磨穿了; 走路一直响; 硬得像石头
"""),
    "Kitchen Appliances": parse_aspects("""
清洗
    + 方便, 简单, 容易, 省事
    - 麻烦, 费劲, 困难, 难
    ++ 冲一下就干净了; 几秒钟搞定; 可以直接放洗碗机
    -- 简直是噩梦; 到处都是洗不掉的污渍; 每次都要半天
性能
    + 强, 稳定, 出色, 好
    - 差, 弱, 糟糕
    ++ 几秒钟就热了; 说到做到; 每次都很完美
    -- 加热要等半天; 用了一个月就坏了; 时好时坏
噪音
    + 小, 低, 轻
    - 大, 吵, 刺耳, 响
    ++ 几乎听不到; 不会吵醒孩子; 比我之前那个小多了
    -- 吵得要命; 一直嗡嗡响; 有奇怪的异响
"""),
    "Music": parse_aspects("""
音质
    + 温暖, 饱满, 清晰, 惊艳
    - 单薄, 闷, 差, 糊
    ++ 比流媒体版本好听多了; 每个细节都听得清; 太棒了
    -- 还不如流媒体; 一点层次都没有; 听着像压缩过的
封套
    + 精美, 好看, 结实, 用心
    - 廉价, 破, 皱, 差
    ++ 设计得很美; 附带的内页很详细; 送人很合适
    -- 到手就压皱了; 连内页都没有; 边上裂开了
唱片品质
    + 好, 干净, 完美, 出色
    - 差, 糟糕, 烂
    ++ 听起来太棒了; 一点杂音都没有; 非常平整
    -- 从头到尾都有噼啪声; 到手就变形了; 第三首一直跳针
"""),
}
# Mid categories whose own aspects replace the top category's (records are not books).
_MID_ONLY = frozenset(("Music",))

_STRONG = ("非常", "特别", "超级", "十分", "相当", "真的很", "超", "巨")
_MILD = ("挺", "还挺", "比较", "蛮", "很", "很", "")
_SOFT_BAD = ("有点", "有些", "稍微有点", "略", "比较")
_HAPPY = ("{noun}没得说", "{noun}挑不出毛病", "对{noun}很满意", "{noun}给满分", "最喜欢它的{noun}",
          "{noun}真心不错")  # fmt: skip
_UNHAPPY = ("对{noun}很失望", "{noun}让人失望", "{noun}不敢恭维", "{noun}真的不行",
            "{noun}有待提高", "{noun}还需要改进")  # fmt: skip
_WHO = ("老婆", "老公", "儿子", "女儿", "爸妈", "我妈", "我爸", "朋友", "男朋友", "女朋友",
        "同事", "自己")  # fmt: skip
_WHEN = ("几天", "一周", "两周", "半个月", "一个月", "两个月", "三个月", "半年")

_OPENERS_ANY = (
    "买给{who}的{noun}。",
    "给{who}买的。",
    "用了{when}了，来评价一下。",
    "{when}前下单的{noun}。",
    "第二次在这家买东西了。",
    "第一次买{brand}的东西。",
    "看了很多评价才下单的。",
    "趁着活动入手的{noun}。",
    "双十一囤的。",
    "之前的{noun}坏了，换了这个。",
    "{brand}的{noun}，{when}前买的。",
)
_OPENERS_POS = (
    "本来没抱太大希望，结果很惊喜。",
    "一直很信任{brand}这个牌子。",
    "纠结了很久终于下单了，不后悔。",
)
_OPENERS_NEG = (
    "本来对这个{noun}期望挺高的。",
    "冲着{brand}这个牌子买的，结果很失望。",
    "看评价挺好才买的，没想到……",
)

_CLOSERS = {
    5: ("强烈推荐！", "会回购的！", "五星好评！", "非常满意！", "闭眼入！", "值得购买。",
        "已经推荐给朋友了。", "下次还来！", "好评！", "买到就是赚到。", "太爱了！"),
    4: ("总体满意。", "值得推荐。", "还会再买。", "扣一星是因为{weak}。", "性价比不错。",
        "整体还可以，推荐。", "基本满意。", "小瑕疵，不影响使用。"),
    3: ("中规中矩吧。", "一般般。", "对得起这个价格。", "还行吧，凑合用。", "不好不坏。",
        "说不上好也说不上差。", "不知道还会不会回购。"),
    2: ("不太推荐。", "有点失望。", "不会再买了。", "不值这个价。", "有更好的选择。",
        "有点后悔买了。"),
    1: ("已退货！", "差评！", "千万别买！", "垃圾！", "浪费钱。", "后悔死了。", "再也不买了。",
        "避雷！", "坑人！", "退货退款了。"),
}  # fmt: skip

_TITLES = {
    5: ("非常满意", "超级喜欢", "好评", "五星好评", "完美的{noun}", "物超所值", "强烈推荐",
        "{good_aspect}超棒", "爱了爱了", "买到就是赚到", "太满意了"),
    4: ("挺好的", "不错", "值得购买", "整体满意", "还不错的{noun}", "{good_aspect}不错",
        "性价比高", "基本满意", "好用"),
    3: ("一般", "还行", "中规中矩", "凑合", "一般般吧", "{good_aspect}还行，{weak}一般",
        "没有想象中好", "说得过去"),
    2: ("有点失望", "不太满意", "不值", "{weak}太差", "不推荐", "一般偏下", "质量堪忧"),
    1: ("差评", "垃圾", "千万别买", "太失望了", "避雷", "已退货", "后悔购买", "极差的{noun}",
        "{weak}太差了", "坑"),
}  # fmt: skip

# A few characters, sometimes an emoji; always one Han character (a review of emoji alone
# has no words to read).
_SHORT = {
    5: ("好评！", "很好👍", "不错不错", "满意😊", "超赞", "五星！", "完美❤️", "喜欢", "好用！",
        "太棒了", "赞👍👍", "爱了"),
    4: ("还不错", "挺好的", "不错👌", "可以", "还可以吧", "满意", "挺好", "好用"),
    3: ("一般", "还行", "凑合", "一般般", "马马虎虎", "还行吧🤔", "就那样"),
    2: ("不太好", "有点失望", "不怎么样", "失望😕", "不太行", "一般偏差"),
    1: ("差评！", "垃圾", "太差了😡", "退货", "别买", "坑👎", "极差", "差评差评"),
}  # fmt: skip
# Short reviews that mix in English, as typed on a phone.
_SHORT_MIXED = {
    5: ("质量很好，nice！", "完美 perfect", "好评 love it", "很好 good"),
    4: ("不错 good", "还可以 ok", "挺好 nice"),
    3: ("一般般 so-so", "还行 ok吧", "凑合 meh"),
    2: ("有点失望 not good", "不太行 meh"),
    1: ("差评 bad", "垃圾 never again", "别买 avoid"),
}  # fmt: skip
_EMOJI = {5: ("👍", "😊", "❤️", "🥰", "💯"), 4: ("👍", "😊", "👌"), 3: ("🤔", "😐"),
          2: ("😕", "👎"), 1: ("😡", "👎", "😤", "💔")}  # fmt: skip

_P_POSITIVE = {5: 0.96, 4: 0.8, 3: 0.5, 2: 0.2, 1: 0.05}
_P_MIXED = {5: 0.03, 4: 0.3, 3: 0.45, 2: 0.3, 1: 0.05}
_LENGTH_WEIGHTS = (20, 24, 19, 13, 9, 7, 5, 3)
P_SHORT = 0.12
P_NEIGHBOUR = 0.15  # a short text or title worded as for a neighbouring rating
P_MIXED_ENGLISH = 0.07
_ASCII_PUNCTUATION = str.maketrans({"，": ",", "。": ".", "！": "!", "？": "?"})


def noun(product: Product) -> str:
    """The product's noun in Chinese."""
    return NOUNS[product.leaf]


def aspects_for(product: Product) -> tuple[Aspect, ...]:
    """What Chinese reviewers of `product` talk about (besides 物流, 价格, 客服 ...)."""
    mid = MID_ASPECTS.get(product.mid, ())
    return mid if product.mid in _MID_ONLY else mid + TOP_ASPECTS[TOPS[product.top]]


def _pos_clause(rng: random.Random, a: Aspect, strong: bool) -> str:
    r = rng.random()
    if r < 0.35:
        i = rng.choice(_STRONG if strong else _MILD)
        # "挺好的", "蛮好的": these intensifiers take a closing 的.
        de = "的" if i in ("挺", "还挺", "蛮") else ""
        return f"{a.noun}{i}{rng.choice(a.good)}{de}"
    if r < 0.65:
        return f"{a.noun}{rng.choice(a.good_claims)}"
    if r < 0.82:
        return rng.choice(_HAPPY).format(noun=a.noun)
    # Negated complaint: praise in the words of a complaint (a trap for bag-of-words).
    return f"{a.noun}{rng.choice(('一点都不', '完全不', '并不'))}{rng.choice(a.bad)}"


def _neg_clause(rng: random.Random, a: Aspect, strong: bool) -> str:
    r = rng.random()
    if r < 0.35:
        bad = rng.choice(a.bad)
        if strong and rng.random() < 0.4:
            return f"{a.noun}太{bad}了"
        if strong:
            return f"{a.noun}{rng.choice(_STRONG)}{bad}"
        return f"{a.noun}{rng.choice(_SOFT_BAD)}{bad}"
    if r < 0.65:
        return f"{a.noun}{rng.choice(a.bad_claims)}"
    if r < 0.82:
        # Negated praise: "音质不太清晰", "做工没有想象中那么精致".
        neg = rng.choice(("不太", "不怎么", "没有想象中那么", "并不"))
        return f"{a.noun}{neg}{rng.choice(a.good)}"
    return rng.choice(_UNHAPPY).format(noun=a.noun)


def _end(rng: random.Random, strong: bool) -> str:
    return "！" if strong and rng.random() < 0.2 else "。"


def _mixed_sentence(rng: random.Random, good: Aspect, bad: Aspect) -> str:
    p = _pos_clause(rng, good, strong=rng.random() < 0.5)
    n = _neg_clause(rng, bad, strong=rng.random() < 0.3)
    r = rng.random()
    if r < 0.3:
        return f"{p}，但是{n}。"
    if r < 0.5:
        return f"{p}，就是{n}。"
    if r < 0.6:
        return f"{p}，可惜{n}。"
    if r < 0.8:
        return f"虽然{p}，但{n}。"
    return f"{n}，{rng.choice(('不过', '好在'))}{p}。"


def _near(rng: random.Random, rating: int) -> int:
    """Mostly `rating`, sometimes a neighbour: a 4-star "还行", a 2-star "一般"."""
    if rng.random() >= P_NEIGHBOUR:
        return rating
    return min(5, max(1, rating + rng.choice((-1, 1))))


def _title(rng: random.Random, rating: int, fill: dict[str, str]) -> str:
    return rng.choice(_TITLES[_near(rng, rating)]).format(**fill)


def _short(rng: random.Random, rating: int, fill: dict[str, str]) -> tuple[str | None, str]:
    mixed = rng.random() < P_MIXED_ENGLISH
    text = rng.choice((_SHORT_MIXED if mixed else _SHORT)[_near(rng, rating)])
    title = _title(rng, rating, fill) if rng.random() < 0.4 else None
    return title, text


def review_text_zh(rng: random.Random, rating: int, product: Product) -> tuple[str | None, str]:
    """(title or None, text) in Chinese for a review of `product` with `rating` stars."""
    specific = aspects_for(product)
    fill = {
        "noun": noun(product),
        "brand": product.brand,
        "who": rng.choice(_WHO),
        "when": rng.choice(_WHEN),
        "weak": rng.choice(specific).noun,
        "good_aspect": rng.choice(specific).noun,
    }
    if rng.random() < P_SHORT:
        return _short(rng, rating, fill)
    pool = list(specific)
    rng.shuffle(pool)
    generic = list(GENERIC)
    rng.shuffle(generic)
    n_body = rng.choices(range(1, 9), weights=_LENGTH_WEIGHTS)[0]
    strong = rating in (1, 5) or rng.random() < 0.4
    p_pos = _P_POSITIVE[rating]
    sentences: list[str] = []
    weak_aspect = good_aspect = None
    if n_body >= 3 and rng.random() < 0.5:
        if rating >= 4 and rng.random() < 0.3:
            opener = rng.choice(_OPENERS_POS)
        elif rating <= 2 and rng.random() < 0.4:
            opener = rng.choice(_OPENERS_NEG)
        else:
            opener = rng.choice(_OPENERS_ANY)
        sentences.append(opener.format(**fill))
    elif rng.random() < 0.3:
        # Name the product up front: "这款耳机音质很好。"
        fill_noun = rng.choice(("这款", "这个", "这次买的", "{brand}的")).format(**fill)
        sentences.append(f"{fill_noun}{fill['noun']}，")
    n_aspect = max(1, n_body - len(sentences) - (1 if n_body >= 2 else 0))
    for k in range(n_aspect):
        source = pool if pool and (rng.random() < 0.72 or not generic) else generic
        a = source.pop()
        if k > 0 and rating in (2, 3, 4) and rng.random() < _P_MIXED[rating] and (pool or generic):
            other = (pool or generic).pop()
            good, bad = (a, other) if rng.random() < p_pos else (other, a)
            sentences.append(_mixed_sentence(rng, good, bad))
            weak_aspect = weak_aspect or bad
            good_aspect = good_aspect or good
        else:
            positive = rating >= 4 if k == 0 and rating != 3 else rng.random() < p_pos
            agrees = rating == 3 or positive == (rating >= 4)
            clause = (_pos_clause if positive else _neg_clause)(rng, a, strong and agrees)
            # Chinese reviews run clauses on with commas as often as they stop.
            sentences.append(clause + ("，" if rng.random() < 0.3 else _end(rng, strong)))
            if positive:
                good_aspect = good_aspect or a
            else:
                weak_aspect = weak_aspect or a
        if not pool and not generic:
            break
    if weak_aspect:
        fill["weak"] = weak_aspect.noun
    if good_aspect:
        fill["good_aspect"] = good_aspect.noun
    english = rng.random() < P_MIXED_ENGLISH
    if english:
        closers = [c for c in ENGLISH_CLOSERS[rating] if "{" not in c]
        sentences.append(" " + rng.choice(closers))
    elif n_body >= 2:
        sentences.append(rng.choice(_CLOSERS[rating]).format(**fill))
    text = "".join(sentences).rstrip("，")
    if not text.endswith(("。", "！", ".", "!")):
        text += _end(rng, strong)
    if rng.random() < 0.15:
        text += rng.choice(_EMOJI[rating])
    if rng.random() < 0.12:
        text = text.translate(_ASCII_PUNCTUATION)
    title = None if rng.random() < 0.07 else _title(rng, rating, fill)
    return title, text.strip()
