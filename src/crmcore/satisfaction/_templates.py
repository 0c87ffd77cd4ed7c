"""Indicator-tree templates from the course texts (Chinese CRM course notes).

* The course texts list five factors that drive customer satisfaction (影响客户满意度:
  企业因素, 产品因素, 营销与服务体系, 沟通因素, 客户关怀).
* An exercise of the course texts builds three-level evaluation systems for a logistics firm:
  customer value X, logistics service quality Y and logistics customer satisfaction Z.

The course texts give structure, not weights: every template comes unweighted, to be weighted with
AHP, entropy or given weights (:class:`IndicatorTree`).

Our reading of the course texts: their table flattens the Z system so that
"工作人员的服务水平 Z3" (staff service level) is followed directly by the indicators numbered
Z21-Z25; they are kept under Z2 as numbered, which leaves Z3 with no third-level indicators, so
it is a leaf (rated directly).
The course texts' typos "Xl1", "ZI2", "ZI4" and the second "Z5" under Z5 are read as X11, Z12,
Z14, Z53.

Directions: with ``rated=True`` every indicator is a satisfaction rating on ``scale`` (higher
is better, so all are benefit indicators); with ``rated=False`` they are measurements and
indicators where less is better (costs, complaint and error rates, response times, debt) are
cost indicators.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcore.satisfaction._tree import Direction, IndicatorTree, Node, Scale

__all__ = [
    "logistics_customer_value_tree",
    "logistics_satisfaction_tree",
    "logistics_service_quality_tree",
    "satisfaction_factors_tree",
]

# (name, label, is a cost when measured)
_Leaf = tuple[str, str, bool]
_Criterion = tuple[str, str, Sequence[_Leaf]]


def _build(goal: str, label: str, criteria: Sequence[_Criterion], *, rated: bool,
           scale: tuple[float, float] | None) -> IndicatorTree:
    s = None if scale is None else Scale(*scale)

    def leaf(name: str, text: str, cost: bool) -> Node:
        direction = Direction.COST if cost and not rated else Direction.BENEFIT
        return Node(name=name, label=text, direction=direction, scale=s)

    children = []
    for name, text, leaves in criteria:
        if leaves:
            children.append(Node(name=name, label=text,
                                 children=tuple(leaf(*item) for item in leaves)))
        else:
            children.append(leaf(name, text, False))
    return IndicatorTree(Node(name=goal, label=label, children=tuple(children)))


def satisfaction_factors_tree(*, scale: tuple[float, float] | None = (1, 5)) -> IndicatorTree:
    """The course texts' five factors of customer satisfaction, each rated on ``scale``.

    Goal ``"satisfaction"`` with leaves ``"enterprise"`` (企业因素), ``"product"`` (产品因素),
    ``"marketing-and-service"`` (营销与服务体系), ``"communication"`` (沟通因素) and
    ``"customer-care"`` (客户关怀).
    """
    criteria: list[_Criterion] = [
        ("enterprise", "enterprise factors (企业因素)", ()),
        ("product", "product factors (产品因素)", ()),
        ("marketing-and-service", "marketing and service system (营销与服务体系)", ()),
        ("communication", "communication factors (沟通因素)", ()),
        ("customer-care", "customer care (客户关怀)", ()),
    ]
    return _build("satisfaction", "customer satisfaction (客户满意度)", criteria, rated=True,
                  scale=scale)


def logistics_customer_value_tree(
    *, rated: bool = False, scale: tuple[float, float] | None = None
) -> IndicatorTree:
    """The course texts' logistics customer-value system X (客户价值评价指标体系).

    x1 relative current value (相对当前价值): X11 profit, X12 stability, X13 operating state,
    X14 credit; x2 relative potential value (相对潜在价值): X21 cooperation potential, X22
    growth potential. All are benefit indicators.
    """
    criteria: list[_Criterion] = [
        ("x1", "relative current value (相对当前价值)", [
            ("X11", "profit (利润)", False),
            ("X12", "stability (稳定性)", False),
            ("X13", "operating state (经营现状)", False),
            ("X14", "credit standing (信誉)", False),
        ]),
        ("x2", "relative potential value (相对潜在价值)", [
            ("X21", "cooperation potential (合作潜力)", False),
            ("X22", "growth potential (发展潜力)", False),
        ]),
    ]
    return _build("X", "logistics customer value (客户价值评价指标体系)", criteria,
                  rated=rated, scale=scale)


def logistics_service_quality_tree(
    *, rated: bool = False, scale: tuple[float, float] | None = None
) -> IndicatorTree:
    """The course texts' logistics service-quality system Y (物流服务质量评价指标体系).

    Y1 timeliness (时效性): Y11-Y13; Y2 reliability (可靠性): Y21-Y22; Y3 flexibility (灵活性):
    Y31-Y37; Y4 safety (安全性): Y41-Y49; Y5 economy (经济性): Y51-Y52. Measured
    (``rated=False``), the complaint ratio Y21, average response time Y31, asset-liability
    ratio Y45, loss-compensation rate Y46 and average cargo damage Y48 are cost indicators.
    """
    criteria: list[_Criterion] = [
        ("Y1", "timeliness (时效性)", [
            ("Y11", "delivery speed (运送速度)", False),
            ("Y12", "area reachable within a given time (一定时间可送达范围)", False),
            ("Y13", "on-time delivery rate (准时交货率)", False),
        ]),
        ("Y2", "reliability (可靠性)", [
            ("Y21", "customer complaint ratio (客户抱怨比率)", True),
            ("Y22", "customer retention rate (客户保持率)", False),
        ]),
        ("Y3", "flexibility (灵活性)", [
            ("Y31", "average response time (平均响应时间)", True),
            ("Y32", "service capacity ratio (服务容量比率)", False),
            ("Y33", "number of service outlets (服务网点数量)", False),
            ("Y34", "density of service outlets (服务网点密度)", False),
            ("Y35", "staff education structure (员工学历结构)", False),
            ("Y36", "return on knowledge capital (知识资本报酬率)", False),
            ("Y37", "customer demand fulfilment rate (客户需求满足率)", False),
        ]),
        ("Y4", "safety (安全性)", [
            ("Y41", "technology investment ratio (技术投入比率)", False),
            ("Y42", "technical grade of facilities and equipment (物流设施与装备的技术等级)",
             False),
            ("Y43", "average driving experience (平均驾龄)", False),
            ("Y44", "insurance cover (保险依托)", False),
            ("Y45", "asset-liability ratio (资产负债率)", True),
            ("Y46", "loss compensation rate (损失赔偿率)", True),
            ("Y47", "interval between safety incidents (安全营运间隔)", False),
            ("Y48", "average cargo damage and shortage (平均货损货差)", True),
            ("Y49", "safe delivery rate (安全交货率)", False),
        ]),
        ("Y5", "economy (经济性)", [
            ("Y51", "incremental revenue-cost ratio (增量收入成本比率)", False),
            ("Y52", "incremental utility-cost ratio (增量效用成本比率)", False),
        ]),
    ]
    return _build("Y", "logistics service quality (物流服务质量评价指标体系)", criteria,
                  rated=rated, scale=scale)


def logistics_satisfaction_tree(
    *, rated: bool = True, scale: tuple[float, float] | None = (1, 5)
) -> IndicatorTree:
    """The course texts' logistics customer-satisfaction system Z (物流企业顾客满意度评价指标体系).

    Z1 logistics cost (物流成本评价): Z11-Z15; Z2 service assurance (服务保证性): Z21-Z25;
    Z3 staff service level (工作人员的服务水平, a leaf: the course texts list no indicators for it);
    Z4 service quality (服务质量): Z41-Z44; Z5 customer complaints (顾客抱怨): Z51-Z55.
    By default every indicator is a satisfaction rating on a 1-5 scale. Measured
    (``rated=False``), the costs Z11, Z12 and the error rate Z54 are cost indicators.
    """
    criteria: list[_Criterion] = [
        ("Z1", "logistics cost (物流成本评价)", [
            ("Z11", "operating cost (运作成本)", True),
            ("Z12", "total cost of logistics service (物流服务总成本)", True),
            ("Z13", "value for money (性价比)", False),
            ("Z14", "inventory availability (存货可供率)", False),
            ("Z15", "saving rate (节约率)", False),
        ]),
        ("Z2", "service assurance (服务保证性)", [
            ("Z21", "coverage of the transport network (运输网络的覆盖程度)", False),
            ("Z22", "availability of service at any time (随时提供服务的能力)", False),
            ("Z23", "ease of ordering (订货的便利性)", False),
            ("Z24", "consultations offered and visit frequency "
                    "(向客户提供咨询的次数, 拜访的频率)", False),
            ("Z25", "staff expertise (工作人员的专业知识水平)", False),
        ]),
        ("Z3", "staff service level (工作人员的服务水平)", ()),
        ("Z4", "service quality (服务质量)", [
            ("Z41", "staff friendliness (工作人员的友好性)", False),
            ("Z42", "satisfaction with information exchange (与顾客信息沟通的满意程度)", False),
            ("Z43", "responsiveness to orders, enquiries and returns "
                    "(对客户订货、客户查询、退货的快速响应性)", False),
            ("Z44", "on-time arrival rate (准时到达率)", False),
        ]),
        ("Z5", "customer complaints (顾客抱怨)", [
            ("Z51", "order tracking (订单跟踪能力)", False),
            ("Z52", "flexibility of service (服务的灵活性)", False),
            ("Z53", "completeness of service (服务的完整性)", False),
            ("Z54", "error rate (差错率)", True),
            ("Z55", "complaint response time and satisfaction with the outcome "
                    "(对顾客抱怨做出反应的时间, 解决结果满意程度的评价)", False),
        ]),
    ]
    return _build("Z", "logistics customer satisfaction (物流企业顾客满意度评价指标体系)",
                  criteria, rated=rated, scale=scale)
